// in / notIn against a constant set: `x IN (1, 2, 3)`, `(a, b) IN ((1, 2), (3, 4))`.
//
// The compiler passes the key expressions first (a tuple on the left is flattened into one
// argument per element) and the set last, as a constant tuple. The set's elements are
// converted to the key types once, while compiling (elements that do not fit the key type
// are dropped, as they can never match), and stored in a hash set. A NULL key gives 0 for
// both in and notIn, ClickHouse's default (transform_null_in = 0).
#include <fmt/format.h>

#include <unordered_set>

#include "eval/column_util.h"
#include "eval/conversion.h"
#include "eval/type_rules.h"
#include "types/convert.h"

namespace trackhouse::eval {
namespace {

using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;
using types::Value;

// Hash set of strings searchable by string_view (no allocation per lookup).
struct ViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
using StringSet = std::unordered_set<std::string, ViewHash, std::equal_to<>>;

const DataTypePtr& UInt8Type() {
  static const DataTypePtr t = DataType::Get(TypeId::kUInt8);
  return t;
}

// The set's elements as rows (one Value per key), flattening `tuple(...)`.
Result<std::vector<std::vector<const ArgSpec*>>> SetRows(std::string_view name, const ArgSpec& set,
                                                         size_t keys) {
  std::vector<const ArgSpec*> elements;
  if (IsTuple(*set.type)) {
    for (const auto& e : set.elements) elements.push_back(&e);
  } else {
    elements.push_back(&set);
  }
  std::vector<std::vector<const ArgSpec*>> rows;
  if (keys > 1 && !elements.empty() && !IsTuple(*elements[0]->type)) {
    // `(a, b) IN (1, 2)`: the set is the one tuple (1, 2).
    rows.push_back(elements);
  } else {
    for (const ArgSpec* e : elements) {
      if (keys == 1) {
        rows.push_back({e});
        continue;
      }
      if (!IsTuple(*e->type) || e->elements.size() != keys) {
        return Status::InvalidArgument(
            fmt::format("Number of columns in section IN doesn't match. {} at left, {} at right.",
                        keys, IsTuple(*e->type) ? e->elements.size() : 1),
            ch::kNumberOfColumnsDoesntMatch);
      }
      std::vector<const ArgSpec*> row;
      for (const auto& x : e->elements) row.push_back(&x);
      rows.push_back(std::move(row));
    }
  }
  for (const auto& row : rows) {
    for (const ArgSpec* x : row) {
      if (!x->value || IsTuple(*x->type)) {
        return Status::NotSupported(
            fmt::format("Function {} supports only a set of constants on the right side", name),
            ch::kNotImplemented);
      }
    }
  }
  return rows;
}

// Converts a set element to the key type; nullopt when it cannot be equal to any key value.
std::optional<Value> ToKey(const ArgSpec& e, const DataTypePtr& key_type) {
  if (e.value->is_null()) return std::nullopt;
  DataTypePtr from = RemoveNullable(e.type);
  if (IsNothing(*from)) return std::nullopt;
  // Numbers: exact conversion only (range-checked), so 300 never matches a UInt8 key.
  if (key_type->is_numeric() && !key_type->is_float() && from->is_numeric()) {
    Result<Value> v = types::ConvertValue(*e.value, *key_type);
    if (!v.ok()) return std::nullopt;
    if (from->is_float() && e.value->AsFloat() != static_cast<double>(v->AsInt()) &&
        e.value->AsFloat() != static_cast<double>(v->AsUInt())) {
      return std::nullopt;
    }
    return *v;
  }
  if (CheckCastable(*from, *key_type, "in").ok()) {
    Result<Value> v = CastValue(*e.value, from, key_type);
    if (v.ok()) return *v;
  }
  return std::nullopt;
}

// One key column's values as hashable text-free keys.
std::string RowKey(const std::vector<types::ColumnPtr>& cols, const std::vector<bool>& consts,
                   size_t row) {
  std::string key;
  for (size_t k = 0; k < cols.size(); ++k) {
    Value v = cols[k]->GetValue(consts[k] ? 0 : row);
    key += v.ToString();
    key.push_back('\x01');
  }
  return key;
}

std::string ValuesKey(const std::vector<Value>& values) {
  std::string key;
  for (const Value& v : values) {
    key += v.ToString();
    key.push_back('\x01');
  }
  return key;
}

FunctionFactory InFn(bool negate) {
  return
      [negate](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
        TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, SIZE_MAX));
        size_t keys = args.size() - 1;
        std::vector<DataTypePtr> key_types;
        for (size_t k = 0; k < keys; ++k) {
          if (IsTuple(*args[k].type) || IsInterval(*args[k].type)) {
            return IllegalArgType(name, *args[k].type, k + 1);
          }
          key_types.push_back(RemoveNullable(args[k].type));
        }
        TH_ASSIGN_OR_RETURN(auto rows, SetRows(name, args.back(), keys));
        DataTypePtr result = UInt8Type();

        if (keys == 1) {
          const DataTypePtr kt = key_types[0];
          std::vector<Value> members;
          for (const auto& row : rows) {
            if (auto v = ToKey(*row[0], kt)) members.push_back(*v);
          }
          if (kt->is_string_like()) {
            auto set = std::make_shared<StringSet>();
            for (const Value& v : members) set->insert(v.string_value());
            return BoundFunction{result,
                                 [set, negate](const std::vector<Datum>& in,
                                               const KernelContext& ctx) -> Result<ColumnPtr> {
                                   size_t n = ctx.rows;
                                   auto out = NewVector<uint8_t>(UInt8Type(), n);
                                   uint8_t* dst = out->data().data();
                                   Datum key = in[0];
                                   const uint8_t* nm = nullptr;
                                   if (key.column->type()->is_nullable()) {
                                     const auto& cn =
                                         static_cast<const types::ColumnNullable&>(*key.column);
                                     nm = cn.null_map().data();
                                     key.column = ToStringColumn(cn.nested_ptr());
                                   }
                                   size_t step = key.is_const ? 0 : 1;
                                   for (size_t i = 0; i < n; ++i) {
                                     bool found = set->find(StrAt(key, i)) != set->end();
                                     dst[i] = (nm && nm[i * step]) ? 0 : (found != negate);
                                   }
                                   return ColumnPtr(out);
                                 }};
          }
          // Numbers, dates, times: a set of physical values.
          return DispatchNumeric(*kt, [&](auto* tag) -> Result<BoundFunction> {
            using X = std::remove_pointer_t<decltype(tag)>;
            auto set = std::make_shared<std::unordered_set<X>>();
            auto list = std::make_shared<std::vector<X>>();
            for (const Value& v : members) {
              X x;
              if constexpr (std::is_floating_point_v<X>)
                x = static_cast<X>(v.AsFloat());
              else if constexpr (std::is_signed_v<X>)
                x = static_cast<X>(v.AsInt());
              else
                x = static_cast<X>(v.AsUInt());
              if (set->insert(x).second) list->push_back(x);
            }
            return BoundFunction{
                result,
                [set, list, negate, kt](const std::vector<Datum>& in,
                                        const KernelContext& ctx) -> Result<ColumnPtr> {
                  size_t n = ctx.rows;
                  auto out = NewVector<uint8_t>(UInt8Type(), n);
                  uint8_t* dst = out->data().data();
                  Datum key = in[0];
                  const uint8_t* nm = nullptr;
                  if (key.column->type()->is_nullable()) {
                    const auto& cn = static_cast<const types::ColumnNullable&>(*key.column);
                    nm = cn.null_map().data();
                    key.column = cn.nested_ptr();
                  }
                  if (!key.column->type()->Equals(*kt)) {
                    TH_ASSIGN_OR_RETURN(key, CastDatum(key, kt));
                  }
                  const X* p = Data<X>(key);
                  size_t step = key.is_const ? 0 : 1;
                  if (list->size() <= 8) {
                    const X* l = list->data();
                    size_t m = list->size();
                    for (size_t i = 0; i < n; ++i) {
                      X v = p[i * step];
                      uint8_t f = 0;
                      for (size_t j = 0; j < m; ++j) f |= v == l[j];
                      dst[i] = f;
                    }
                  } else {
                    for (size_t i = 0; i < n; ++i) dst[i] = set->count(p[i * step]) != 0;
                  }
                  for (size_t i = 0; i < n; ++i) {
                    bool is_null = nm && nm[i * step];
                    dst[i] = is_null ? 0 : (dst[i] != 0) != negate;
                  }
                  return ColumnPtr(out);
                }};
          });
        }

        // Several keys: rows of values, keyed by their text.
        auto set = std::make_shared<std::unordered_set<std::string>>();
        for (const auto& row : rows) {
          std::vector<Value> values;
          bool ok = true;
          for (size_t k = 0; k < keys && ok; ++k) {
            auto v = ToKey(*row[k], key_types[k]);
            if (!v)
              ok = false;
            else
              values.push_back(*v);
          }
          if (ok) set->insert(ValuesKey(values));
        }
        return BoundFunction{
            result,
            [set, negate, key_types](const std::vector<Datum>& in,
                                     const KernelContext& ctx) -> Result<ColumnPtr> {
              size_t n = ctx.rows;
              size_t keys = in.size() - 1;
              std::vector<types::ColumnPtr> cols;
              std::vector<bool> consts;
              std::vector<uint8_t> nulls(n, 0);
              for (size_t k = 0; k < keys; ++k) {
                MergeNullMap(in[k], n, &nulls);
                Datum d = in[k];
                if (d.column->type()->is_nullable()) {
                  d.column = static_cast<const types::ColumnNullable&>(*d.column).nested_ptr();
                }
                if (!d.column->type()->Equals(*key_types[k])) {
                  TH_ASSIGN_OR_RETURN(d, CastDatum(d, key_types[k]));
                }
                cols.push_back(d.column);
                consts.push_back(d.is_const);
              }
              auto out = NewVector<uint8_t>(UInt8Type(), n);
              uint8_t* dst = out->data().data();
              for (size_t i = 0; i < n; ++i) {
                if (nulls[i]) continue;
                bool found = set->count(RowKey(cols, consts, i)) != 0;
                dst[i] = found != negate;
              }
              return ColumnPtr(out);
            }};
      };
}

}  // namespace

void RegisterSetFunctions(FunctionRegistry* r) {
  FunctionTraits own_nulls{.default_nulls = false};
  r->Register("in", InFn(false), own_nulls);
  r->Register("notIn", InFn(true), own_nulls);
}

}  // namespace trackhouse::eval
