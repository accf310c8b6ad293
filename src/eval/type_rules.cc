#include "eval/type_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace trackhouse::eval {

using types::DataType;
using types::DataTypePtr;
using types::TypeId;

const DataTypePtr& NothingType() {
  static const DataTypePtr t = std::make_shared<DataType>(TypeId::kUInt8, "Nothing", 0, 0, nullptr);
  return t;
}

const DataTypePtr& NullLiteralType() {
  static const DataTypePtr t = DataType::Nullable(NothingType());
  return t;
}

bool IsNothing(const DataType& type) { return type.name() == "Nothing"; }

bool IsNullLiteralType(const DataType& type) {
  return type.is_nullable() && IsNothing(*type.nested());
}

namespace {

constexpr std::string_view kIntervalNames[] = {"Second", "Minute", "Hour",    "Day",
                                               "Week",   "Month",  "Quarter", "Year"};

}  // namespace

std::string_view IntervalKindName(IntervalKind kind) {
  return kIntervalNames[static_cast<int>(kind)];
}

const DataTypePtr& IntervalType(IntervalKind kind) {
  static const auto* table = [] {
    auto* v = new std::vector<DataTypePtr>();
    for (std::string_view n : kIntervalNames) {
      v->push_back(
          std::make_shared<DataType>(TypeId::kInt64, "Interval" + std::string(n), 0, 0, nullptr));
    }
    return v;
  }();
  return (*table)[static_cast<int>(kind)];
}

bool IsInterval(const DataType& type, IntervalKind* kind) {
  const std::string& n = type.name();
  if (n.size() < 9 || n.compare(0, 8, "Interval") != 0) return false;
  for (size_t i = 0; i < std::size(kIntervalNames); ++i) {
    if (std::string_view(n).substr(8) == kIntervalNames[i]) {
      if (kind) *kind = static_cast<IntervalKind>(i);
      return true;
    }
  }
  return false;
}

DataTypePtr TupleType(const std::vector<DataTypePtr>& elements) {
  std::string name = "Tuple(";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i) name += ", ";
    name += elements[i]->name();
  }
  name += ")";
  return std::make_shared<DataType>(TypeId::kUInt8, std::move(name), 0, 0, nullptr);
}

bool IsTuple(const DataType& type) { return type.name().compare(0, 6, "Tuple(") == 0; }

DataTypePtr LiteralNumberType(const types::Value& v) {
  switch (v.kind()) {
    case types::Value::Kind::kUInt: {
      uint64_t x = v.uint_value();
      if (x <= 0xFF) return DataType::Get(TypeId::kUInt8);
      if (x <= 0xFFFF) return DataType::Get(TypeId::kUInt16);
      if (x <= 0xFFFFFFFFull) return DataType::Get(TypeId::kUInt32);
      return DataType::Get(TypeId::kUInt64);
    }
    case types::Value::Kind::kInt: {
      int64_t x = v.int_value();
      if (x >= 0) return LiteralNumberType(types::Value::UInt(static_cast<uint64_t>(x)));
      if (x >= INT8_MIN) return DataType::Get(TypeId::kInt8);
      if (x >= INT16_MIN) return DataType::Get(TypeId::kInt16);
      if (x >= INT32_MIN) return DataType::Get(TypeId::kInt32);
      return DataType::Get(TypeId::kInt64);
    }
    case types::Value::Kind::kFloat:
      return DataType::Get(TypeId::kFloat64);
    case types::Value::Kind::kString:
      return DataType::Get(TypeId::kString);
    case types::Value::Kind::kNull:
      return NullLiteralType();
    case types::Value::Kind::kArray: {
      // Array of the elements' least supertype; Array(Nothing) when empty.
      std::vector<DataTypePtr> elements;
      for (const auto& e : v.array_value()) elements.push_back(LiteralNumberType(e));
      auto element = LeastSupertype(elements);
      return DataType::Array(element.ok() ? *element : elements.front());
    }
  }
  return DataType::Get(TypeId::kFloat64);
}

DataTypePtr StripLowCardinality(const DataTypePtr& type) {
  if (type->id() == TypeId::kLowCardinality) return DataType::Get(TypeId::kString);
  return type;
}

DataTypePtr RemoveNullable(const DataTypePtr& type) {
  return type->is_nullable() ? type->nested() : type;
}

DataTypePtr MakeNullable(const DataTypePtr& type) {
  if (type->is_nullable()) return type;
  return DataType::Nullable(type);
}

int IntegerBits(TypeId id) {
  switch (id) {
    case TypeId::kInt8:
    case TypeId::kUInt8:
    case TypeId::kBool:
      return 8;
    case TypeId::kInt16:
    case TypeId::kUInt16:
      return 16;
    case TypeId::kInt32:
    case TypeId::kUInt32:
      return 32;
    default:
      return 64;
  }
}

DataTypePtr IntegerType(bool is_signed, int bits) {
  static constexpr TypeId kSigned[] = {TypeId::kInt8, TypeId::kInt16, TypeId::kInt32,
                                       TypeId::kInt64};
  static constexpr TypeId kUnsigned[] = {TypeId::kUInt8, TypeId::kUInt16, TypeId::kUInt32,
                                         TypeId::kUInt64};
  int idx = bits <= 8 ? 0 : bits <= 16 ? 1 : bits <= 32 ? 2 : 3;
  return DataType::Get(is_signed ? kSigned[idx] : kUnsigned[idx]);
}

namespace {

std::string TypeList(const std::vector<DataTypePtr>& types) {
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i) out += ", ";
    out += types[i]->name();
  }
  return out;
}

Status NoSupertype(const std::vector<DataTypePtr>& types, std::string_view why) {
  std::string msg = fmt::format("There is no supertype for types {}", TypeList(types));
  if (!why.empty()) msg += fmt::format(" because {}", why);
  return Status::InvalidArgument(std::move(msg), kChNoCommonType);
}

}  // namespace

Result<DataTypePtr> LeastSupertype(const std::vector<DataTypePtr>& in) {
  if (in.empty()) return NothingType();
  bool all_equal = true;
  for (const auto& t : in) all_equal &= t->Equals(*in[0]);
  if (all_equal) return in[0];

  // Nullable and Nothing: compute over the nested types, then wrap.
  bool any_nullable = false;
  std::vector<DataTypePtr> nested;
  for (const auto& t : in) {
    DataTypePtr n = t;
    if (n->is_nullable()) {
      any_nullable = true;
      n = n->nested();
    }
    if (IsNothing(*n)) continue;
    nested.push_back(StripLowCardinality(n));
  }
  if (nested.empty()) return any_nullable ? NullLiteralType() : NothingType();
  if (any_nullable) {
    TH_ASSIGN_OR_RETURN(DataTypePtr inner, LeastSupertype(nested));
    if (IsTuple(*inner)) return inner;
    return MakeNullable(inner);
  }
  bool all_nested_equal = true;
  for (const auto& t : nested) all_nested_equal &= t->Equals(*nested[0]);
  if (all_nested_equal) return nested[0];
  for (const auto& t : nested) {
    if (IsTuple(*t) || IsInterval(*t)) return NoSupertype(in, "");
  }

  size_t strings = 0, times = 0, numbers = 0;
  for (const auto& t : nested) {
    if (t->is_string_like())
      ++strings;
    else if (t->is_time())
      ++times;
    else if (t->is_numeric())
      ++numbers;
  }
  if (strings) {
    if (strings != nested.size()) {
      return NoSupertype(in, "some of them are String/FixedString and some of them are not");
    }
    return DataType::Get(TypeId::kString);
  }
  if (times) {
    if (times != nested.size()) {
      return NoSupertype(in, "some of them are Date/DateTime and some of them are not");
    }
    uint32_t max_precision = 0;
    bool any64 = false, any_datetime = false;
    for (const auto& t : nested) {
      if (t->id() == TypeId::kDateTime64) {
        any64 = true;
        max_precision = std::max(max_precision, t->precision());
      }
      any_datetime |= t->id() == TypeId::kDateTime;
    }
    if (any64) return DataType::DateTime64(max_precision);
    if (any_datetime) return DataType::Get(TypeId::kDateTime);
    return DataType::Get(TypeId::kDate);
  }
  if (numbers != nested.size()) return NoSupertype(in, "");

  int max_signed = 0, max_unsigned = 0, max_mantissa = 0;
  for (const auto& t : nested) {
    switch (t->id()) {
      case TypeId::kFloat32:
        max_mantissa = std::max(max_mantissa, 24);
        break;
      case TypeId::kFloat64:
        max_mantissa = std::max(max_mantissa, 53);
        break;
      case TypeId::kBool:
        max_unsigned = std::max(max_unsigned, 8);
        break;
      default:
        if (t->is_signed())
          max_signed = std::max(max_signed, IntegerBits(t->id()));
        else
          max_unsigned = std::max(max_unsigned, IntegerBits(t->id()));
    }
  }
  if (max_mantissa) {
    int bits = std::max({max_signed, max_unsigned, max_mantissa});
    if (bits <= 24) return DataType::Get(TypeId::kFloat32);
    if (bits <= 53) return DataType::Get(TypeId::kFloat64);
    return NoSupertype(in,
                       "some of them are integers and some are floating point, but there "
                       "is no floating point type that can exactly represent all of them");
  }
  if (max_signed) {
    int bits = max_signed;
    if (max_unsigned >= max_signed) bits = max_unsigned * 2;
    if (bits > 64) {
      return NoSupertype(in,
                         "some of them are signed integers and some are unsigned integers, "
                         "but there is no signed integer type that can exactly represent "
                         "all of them");
    }
    return IntegerType(true, bits);
  }
  return IntegerType(false, max_unsigned);
}

Status IllegalArgType(std::string_view function, const DataType& type, size_t arg_no,
                      std::string_view hint) {
  std::string msg =
      arg_no ? fmt::format("Illegal type {} of argument {} of function {}", type.name(), arg_no,
                           function)
             : fmt::format("Illegal type {} of argument of function {}", type.name(), function);
  if (!hint.empty()) msg += fmt::format(". {}", hint);
  return Status::InvalidArgument(std::move(msg), ch::kIllegalTypeOfArgument);
}

Status ArgCountMismatch(std::string_view function, size_t passed, std::string_view expected) {
  return Status::InvalidArgument(
      fmt::format("Number of arguments for function {} doesn't match: passed {}, should be {}",
                  function, passed, expected),
      ch::kNumberOfArgumentsDoesntMatch);
}

Status CheckArgCount(std::string_view function, size_t passed, size_t min, size_t max) {
  if (passed >= min && passed <= max) return Status::OK();
  std::string expected;
  if (min == max)
    expected = std::to_string(min);
  else if (max == SIZE_MAX)
    expected = fmt::format("at least {}", min);
  else
    expected = fmt::format("{} or {}", min, max);
  if (max != SIZE_MAX && max > min + 1) expected = fmt::format("from {} to {}", min, max);
  return ArgCountMismatch(function, passed, expected);
}

}  // namespace trackhouse::eval
