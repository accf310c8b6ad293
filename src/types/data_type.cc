#include "types/data_type.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <map>
#include <mutex>

namespace trackhouse::types {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct Simple {
  const char* name;
  TypeId id;
};
constexpr Simple kSimple[] = {
    {"Int8", TypeId::kInt8},         {"Int16", TypeId::kInt16},   {"Int32", TypeId::kInt32},
    {"Int64", TypeId::kInt64},       {"UInt8", TypeId::kUInt8},   {"UInt16", TypeId::kUInt16},
    {"UInt32", TypeId::kUInt32},     {"UInt64", TypeId::kUInt64}, {"Float32", TypeId::kFloat32},
    {"Float64", TypeId::kFloat64},   {"Bool", TypeId::kBool},     {"Date", TypeId::kDate},
    {"DateTime", TypeId::kDateTime}, {"String", TypeId::kString},
};

// Case-insensitive aliases ClickHouse accepts.
const std::map<std::string, std::string>& Aliases() {
  static const auto* m = new std::map<std::string, std::string>{
      {"tinyint", "Int8"},       {"smallint", "Int16"}, {"int", "Int32"},      {"integer", "Int32"},
      {"bigint", "Int64"},       {"float", "Float32"},  {"double", "Float64"}, {"boolean", "Bool"},
      {"bool", "Bool"},          {"text", "String"},    {"varchar", "String"}, {"char", "String"},
      {"timestamp", "DateTime"}, {"blob", "String"},
  };
  return *m;
}

Status Unknown(std::string_view text) {
  return Status::InvalidArgument(fmt::format("Unknown data type family: {}", text),
                                 ch::kUnknownType);
}

Result<uint32_t> ParseUint(std::string_view s, std::string_view whole) {
  s = Trim(s);
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return Status::InvalidArgument(fmt::format("Bad type argument '{}' in {}", s, whole),
                                   ch::kUnknownType);
  }
  return v;
}

}  // namespace

size_t DataType::value_width() const {
  switch (id_) {
    case TypeId::kInt8:
    case TypeId::kUInt8:
    case TypeId::kBool:
      return 1;
    case TypeId::kInt16:
    case TypeId::kUInt16:
    case TypeId::kDate:
      return 2;
    case TypeId::kInt32:
    case TypeId::kUInt32:
    case TypeId::kFloat32:
    case TypeId::kDateTime:
      return 4;
    case TypeId::kInt64:
    case TypeId::kUInt64:
    case TypeId::kFloat64:
    case TypeId::kDateTime64:
      return 8;
    case TypeId::kFixedString:
      return fixed_size_;
    case TypeId::kNullable:
      return nested_->value_width();
    case TypeId::kString:
    case TypeId::kLowCardinality:
    case TypeId::kArray:
      return 0;
  }
  return 0;
}

DataTypePtr DataType::Get(TypeId id) {
  static const auto* table = [] {
    auto* t = new std::map<TypeId, DataTypePtr>();
    for (const auto& s : kSimple) {
      (*t)[s.id] = std::make_shared<DataType>(s.id, s.name, 0, 0, nullptr);
    }
    return t;
  }();
  auto it = table->find(id);
  if (it != table->end()) return it->second;
  if (id == TypeId::kLowCardinality) return LowCardinalityString();
  if (id == TypeId::kDateTime64) return DateTime64(3);
  return nullptr;
}

DataTypePtr DataType::FixedString(uint32_t n) {
  return std::make_shared<DataType>(TypeId::kFixedString, fmt::format("FixedString({})", n), n, 0,
                                    nullptr);
}

DataTypePtr DataType::DateTime64(uint32_t precision) {
  return std::make_shared<DataType>(TypeId::kDateTime64, fmt::format("DateTime64({})", precision),
                                    0, precision, nullptr);
}

DataTypePtr DataType::Nullable(DataTypePtr nested) {
  std::string name = "Nullable(" + nested->name() + ")";
  return std::make_shared<DataType>(TypeId::kNullable, std::move(name), 0, 0, std::move(nested));
}

DataTypePtr DataType::LowCardinalityString() {
  static const DataTypePtr t = std::make_shared<DataType>(
      TypeId::kLowCardinality, "LowCardinality(String)", 0, 0, Get(TypeId::kString));
  return t;
}

DataTypePtr DataType::Array(DataTypePtr element) {
  std::string name = "Array(" + element->name() + ")";
  return std::make_shared<DataType>(TypeId::kArray, std::move(name), 0, 0, std::move(element));
}

namespace {

// Types nest through Array, Nullable and LowCardinality; deeper text is rejected before the
// recursion can exhaust the stack.
constexpr int kMaxTypeDepth = 64;

Result<DataTypePtr> ParseDataTypeAt(std::string_view text, int depth) {
  if (depth > kMaxTypeDepth) {
    return Status::InvalidArgument(
        fmt::format("Data type is nested more than {} levels deep", kMaxTypeDepth),
        ch::kUnknownType);
  }
  std::string_view t = Trim(text);
  size_t paren = t.find('(');
  std::string_view family = Trim(t.substr(0, paren));
  std::string_view args;
  if (paren != std::string_view::npos) {
    if (t.back() != ')') {
      return Status::InvalidArgument(fmt::format("Malformed data type: {}", t), ch::kUnknownType);
    }
    args = Trim(t.substr(paren + 1, t.size() - paren - 2));
  }
  for (const auto& s : kSimple) {
    if (family == s.name && paren == std::string_view::npos) return DataType::Get(s.id);
  }
  if (family == "DateTime" && paren != std::string_view::npos) {
    // DateTime('UTC'): only UTC is stored; the time zone argument must be UTC.
    if (args != "'UTC'" && args != "'Etc/UTC'") {
      return Status::NotSupported(
          fmt::format("Time zone {} is not supported: trackhouse stores DateTime in UTC", args),
          ch::kBadArguments);
    }
    return DataType::Get(TypeId::kDateTime);
  }
  if (family == "DateTime64") {
    std::string_view p = args;
    size_t comma = args.find(',');
    if (comma != std::string_view::npos) {
      std::string_view tz = Trim(args.substr(comma + 1));
      if (tz != "'UTC'" && tz != "'Etc/UTC'") {
        return Status::NotSupported(
            fmt::format("Time zone {} is not supported: trackhouse stores DateTime64 in UTC", tz),
            ch::kBadArguments);
      }
      p = args.substr(0, comma);
    }
    if (Trim(p).empty()) {
      return Status::InvalidArgument("DateTime64 requires a precision argument",
                                     ch::kNumberOfArgumentsDoesntMatch);
    }
    TH_ASSIGN_OR_RETURN(uint32_t precision, ParseUint(p, t));
    if (precision > 9) {
      return Status::InvalidArgument(
          fmt::format("Precision {} is out of range for DateTime64 (0 to 9)", precision),
          ch::kArgumentOutOfBound);
    }
    return DataType::DateTime64(precision);
  }
  if (family == "FixedString") {
    TH_ASSIGN_OR_RETURN(uint32_t n, ParseUint(args, t));
    if (n == 0 || n > (1u << 20)) {
      return Status::InvalidArgument(fmt::format("FixedString size {} is out of range", n),
                                     ch::kArgumentOutOfBound);
    }
    return DataType::FixedString(n);
  }
  if (family == "LowCardinality") {
    TH_ASSIGN_OR_RETURN(DataTypePtr inner, ParseDataTypeAt(args, depth + 1));
    if (inner->id() == TypeId::kString) return DataType::LowCardinalityString();
    // LowCardinality of other types stores as the plain type, as ClickHouse allows.
    if (inner->id() == TypeId::kNullable && inner->nested()->id() == TypeId::kString) {
      return Status::NotSupported("LowCardinality(Nullable(String)) is not supported",
                                  ch::kNotImplemented);
    }
    if (inner->is_array()) {
      return Status::InvalidArgument(
          fmt::format("LowCardinality is supported only for numbers, strings, Date or DateTime, "
                      "but got {}",
                      inner->name()),
          ch::kIllegalTypeOfArgument);
    }
    return inner;
  }
  if (family == "Array") {
    if (args.empty()) {
      return Status::InvalidArgument("Array data type family must have exactly one argument",
                                     ch::kNumberOfArgumentsDoesntMatch);
    }
    TH_ASSIGN_OR_RETURN(DataTypePtr element, ParseDataTypeAt(args, depth + 1));
    return DataType::Array(std::move(element));
  }
  if (family == "Nullable") {
    TH_ASSIGN_OR_RETURN(DataTypePtr inner, ParseDataTypeAt(args, depth + 1));
    if (inner->is_nullable() || inner->is_array() || inner->id() == TypeId::kLowCardinality) {
      return Status::InvalidArgument(
          fmt::format("Nested type {} cannot be inside Nullable type", inner->name()),
          ch::kIllegalTypeOfArgument);
    }
    return DataType::Nullable(inner);
  }
  if (paren == std::string_view::npos) {
    std::string lower(family);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = Aliases().find(lower);
    if (it != Aliases().end()) return ParseDataTypeAt(it->second, depth + 1);
  }
  static const char* kKnownUnsupported[] = {"Tuple",  "Map",       "Decimal",  "UUID",   "IPv4",
                                            "IPv6",   "Enum8",     "Enum16",   "Nested", "Int128",
                                            "Int256", "UInt128",   "UInt256",  "Date32", "JSON",
                                            "Object", "Decimal32", "Decimal64"};
  for (const char* u : kKnownUnsupported) {
    if (family == u) {
      return Status::NotSupported(fmt::format("Data type {} is not supported by trackhouse", t),
                                  ch::kUnknownType);
    }
  }
  return Unknown(family);
}

}  // namespace

Result<DataTypePtr> ParseDataType(std::string_view text) { return ParseDataTypeAt(text, 0); }

}  // namespace trackhouse::types
