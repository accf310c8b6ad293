// JSON functions over String columns holding JSON documents (simdjson DOM, error-code mode):
// isValidJSON, JSONHas, JSONLength, JSONExtractString, JSONExtractInt, JSONExtractUInt,
// JSONExtractFloat, JSONExtractBool, JSONExtractRaw.
//
// The path is zero or more constant arguments: a string selects an object member by key, an
// integer selects the n-th element of an array or member of an object (1-based; negative
// counts from the end; 0 selects nothing). A missing path, a value of the wrong kind or an
// invalid document gives the type's default ('' / 0), as in ClickHouse.
#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <variant>

#include "eval/column_util.h"
#include "eval/conversion.h"
#include "eval/type_rules.h"

namespace trackhouse::eval {
namespace {

using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;
namespace dom = simdjson::dom;

using PathItem = std::variant<std::string, int64_t>;

enum class Extract { kHas, kLength, kString, kInt, kUInt, kFloat, kBool, kRaw, kValid };

DataTypePtr ResultType(Extract e) {
  switch (e) {
    case Extract::kHas:
    case Extract::kBool:
    case Extract::kValid:
      return DataType::Get(TypeId::kUInt8);
    case Extract::kLength:
      return DataType::Get(TypeId::kUInt64);
    case Extract::kString:
    case Extract::kRaw:
      return DataType::Get(TypeId::kString);
    case Extract::kInt:
      return DataType::Get(TypeId::kInt64);
    case Extract::kUInt:
      return DataType::Get(TypeId::kUInt64);
    case Extract::kFloat:
      return DataType::Get(TypeId::kFloat64);
  }
  return nullptr;
}

// Follows `path` from `e`; false if a step does not exist.
bool Navigate(dom::element e, const std::vector<PathItem>& path, dom::element* out) {
  for (const PathItem& item : path) {
    if (const std::string* key = std::get_if<std::string>(&item)) {
      dom::object obj;
      if (e.get(obj) != simdjson::SUCCESS) return false;
      dom::element next;
      if (obj.at_key(*key).get(next) != simdjson::SUCCESS) return false;
      e = next;
      continue;
    }
    int64_t index = std::get<int64_t>(item);
    if (index == 0) return false;
    dom::array arr;
    dom::object obj;
    if (e.get(arr) == simdjson::SUCCESS) {
      int64_t size = static_cast<int64_t>(arr.size());
      int64_t pos = index > 0 ? index - 1 : size + index;
      if (pos < 0 || pos >= size) return false;
      dom::element next;
      if (arr.at(static_cast<size_t>(pos)).get(next) != simdjson::SUCCESS) return false;
      e = next;
    } else if (e.get(obj) == simdjson::SUCCESS) {
      int64_t size = static_cast<int64_t>(obj.size());
      int64_t pos = index > 0 ? index - 1 : size + index;
      if (pos < 0 || pos >= size) return false;
      int64_t k = 0;
      for (dom::key_value_pair kv : obj) {
        if (k++ == pos) {
          e = kv.value;
          break;
        }
      }
    } else {
      return false;
    }
  }
  *out = e;
  return true;
}

void WriteJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '/':
        out->append("\\/");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append(fmt::format("\\u{:04X}", c));
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          out->append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
          i += 2;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// Serializes an element the way ClickHouse's JSONExtractRaw does (compact).
void WriteRaw(dom::element e, std::string* out) {
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      dom::array arr;
      if (e.get(arr) != simdjson::SUCCESS) return;
      for (dom::element x : arr) {
        if (!first) out->push_back(',');
        first = false;
        WriteRaw(x, out);
      }
      out->push_back(']');
      return;
    }
    case dom::element_type::OBJECT: {
      out->push_back('{');
      bool first = true;
      dom::object obj;
      if (e.get(obj) != simdjson::SUCCESS) return;
      for (dom::key_value_pair kv : obj) {
        if (!first) out->push_back(',');
        first = false;
        WriteJsonString(kv.key, out);
        out->push_back(':');
        WriteRaw(kv.value, out);
      }
      out->push_back('}');
      return;
    }
    case dom::element_type::INT64:
      out->append(std::to_string(e.get_int64().value_unsafe()));
      return;
    case dom::element_type::UINT64:
      out->append(std::to_string(e.get_uint64().value_unsafe()));
      return;
    case dom::element_type::DOUBLE:
      FormatFloat64(e.get_double().value_unsafe(), out);
      return;
    case dom::element_type::STRING:
      WriteJsonString(e.get_string().value_unsafe(), out);
      return;
    case dom::element_type::BOOL:
      out->append(e.get_bool().value_unsafe() ? "true" : "false");
      return;
    case dom::element_type::NULL_VALUE:
      out->append("null");
      return;
  }
}

template <typename X>
bool ToNumber(dom::element e, X* out) {
  switch (e.type()) {
    case dom::element_type::INT64: {
      int64_t v = e.get_int64().value_unsafe();
      if constexpr (std::is_floating_point_v<X>) {
        *out = static_cast<X>(v);
      } else if constexpr (std::is_unsigned_v<X>) {
        if (v < 0) return false;
        *out = static_cast<X>(v);
      } else {
        *out = v;
      }
      return true;
    }
    case dom::element_type::UINT64: {
      uint64_t v = e.get_uint64().value_unsafe();
      if constexpr (std::is_same_v<X, int64_t>) {
        if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
      }
      *out = static_cast<X>(v);
      return true;
    }
    case dom::element_type::DOUBLE: {
      double v = e.get_double().value_unsafe();
      if constexpr (std::is_floating_point_v<X>) {
        *out = v;
      } else {
        if (!std::isfinite(v) || v < static_cast<double>(std::numeric_limits<X>::min()) ||
            v >= static_cast<double>(std::numeric_limits<X>::max())) {
          return false;
        }
        *out = static_cast<X>(v);
      }
      return true;
    }
    case dom::element_type::BOOL:
      *out = e.get_bool().value_unsafe() ? 1 : 0;
      return true;
    default:
      return false;
  }
}

Result<BoundFunction> Bind(Extract what, std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, what == Extract::kValid ? 1 : SIZE_MAX));
  if (!args[0].type->is_string_like()) return IllegalArgType(name, *args[0].type, 1);
  std::vector<PathItem> path;
  for (size_t i = 1; i < args.size(); ++i) {
    const ArgSpec& a = args[i];
    if (a.type->is_string_like()) {
      auto s = ConstString(a);
      if (!s) {
        return Status::NotSupported(
            fmt::format("Function {}: path arguments must be constants", name),
            ch::kNotImplemented);
      }
      path.emplace_back(*s);
    } else if (a.type->is_integer()) {
      auto v = ConstInt(a);
      if (!v) {
        return Status::NotSupported(
            fmt::format("Function {}: path arguments must be constants", name),
            ch::kNotImplemented);
      }
      path.emplace_back(*v);
    } else {
      return IllegalArgType(name, *a.type, i + 1, "Must be a string or an integer");
    }
  }
  DataTypePtr result = ResultType(what);
  return BoundFunction{result,
                       [what, path, result](const std::vector<Datum>& in,
                                            const KernelContext& ctx) -> Result<ColumnPtr> {
                         size_t rows = ctx.rows;
                         dom::parser parser;
                         std::string padded;
                         std::string text;
                         ColumnPtr out;
                         std::shared_ptr<types::ColumnString> strings;
                         if (result->id() == TypeId::kString) {
                           strings = std::make_shared<types::ColumnString>(result);
                           strings->Reserve(rows);
                           out = strings;
                         } else {
                           out = types::MakeColumn(result);
                           out->Reserve(rows);
                         }
                         for (size_t i = 0; i < rows; ++i) {
                           std::string_view json = StrAt(in[0], i);
                           padded.assign(json);
                           padded.append(simdjson::SIMDJSON_PADDING, '\0');
                           dom::element doc, e;
                           bool ok = parser.parse(padded.data(), json.size(), false).get(doc) ==
                                     simdjson::SUCCESS;
                           bool found = ok && Navigate(doc, path, &e);
                           switch (what) {
                             case Extract::kValid:
                               static_cast<Vec<uint8_t>&>(*out).push_back(ok);
                               break;
                             case Extract::kHas:
                               static_cast<Vec<uint8_t>&>(*out).push_back(found);
                               break;
                             case Extract::kLength: {
                               uint64_t n = 0;
                               dom::array arr;
                               dom::object obj;
                               if (found && e.get(arr) == simdjson::SUCCESS)
                                 n = arr.size();
                               else if (found && e.get(obj) == simdjson::SUCCESS)
                                 n = obj.size();
                               static_cast<Vec<uint64_t>&>(*out).push_back(n);
                               break;
                             }
                             case Extract::kString: {
                               std::string_view s;
                               if (found && e.is_string()) s = e.get_string().value_unsafe();
                               strings->Append(s);
                               break;
                             }
                             case Extract::kRaw:
                               text.clear();
                               if (found) WriteRaw(e, &text);
                               strings->Append(text);
                               break;
                             case Extract::kInt: {
                               int64_t v = 0;
                               if (!found || !ToNumber(e, &v)) v = 0;
                               static_cast<Vec<int64_t>&>(*out).push_back(v);
                               break;
                             }
                             case Extract::kUInt: {
                               uint64_t v = 0;
                               if (!found || !ToNumber(e, &v)) v = 0;
                               static_cast<Vec<uint64_t>&>(*out).push_back(v);
                               break;
                             }
                             case Extract::kFloat: {
                               double v = 0;
                               if (!found || !ToNumber(e, &v)) v = 0;
                               static_cast<Vec<double>&>(*out).push_back(v);
                               break;
                             }
                             case Extract::kBool: {
                               uint8_t v = found && e.is_bool() && e.get_bool().value_unsafe();
                               static_cast<Vec<uint8_t>&>(*out).push_back(v);
                               break;
                             }
                           }
                         }
                         return out;
                       }};
}

FunctionFactory JsonFn(Extract what) {
  return [what](std::string_view name, const std::vector<ArgSpec>& args) {
    return Bind(what, name, args);
  };
}

}  // namespace

void RegisterJsonFunctions(FunctionRegistry* r) {
  r->Register("isValidJSON", JsonFn(Extract::kValid));
  r->Register("JSONHas", JsonFn(Extract::kHas));
  r->Register("JSONLength", JsonFn(Extract::kLength));
  r->Register("JSONExtractString", JsonFn(Extract::kString));
  r->Register("JSONExtractInt", JsonFn(Extract::kInt));
  r->Register("JSONExtractUInt", JsonFn(Extract::kUInt));
  r->Register("JSONExtractFloat", JsonFn(Extract::kFloat));
  r->Register("JSONExtractBool", JsonFn(Extract::kBool));
  r->Register("JSONExtractRaw", JsonFn(Extract::kRaw));
}

}  // namespace trackhouse::eval
