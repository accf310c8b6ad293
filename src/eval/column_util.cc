#include "eval/column_util.h"

#include "types/convert.h"

namespace trackhouse::eval {

using types::Column;
using types::ColumnPtr;
using types::DataTypePtr;
using types::TypeId;

Datum ConstDatum(const DataTypePtr& type, const types::Value& v) {
  return Datum{types::MakeConstColumn(type, v, 1), true};
}

ColumnPtr Materialize(const Datum& d, size_t rows) {
  if (!d.is_const) return d.column;
  if (rows == 1) return d.column;
  const Column& c = *d.column;
  const DataTypePtr& type = c.type();
  switch (type->id()) {
    case TypeId::kString:
    case TypeId::kFixedString:
    case TypeId::kLowCardinality:
    case TypeId::kNullable:
    case TypeId::kArray:
      return types::MakeConstColumn(type, c.GetValue(0), rows);
    default:
      return types::DispatchVector(type->id(), [&](auto* tag) -> ColumnPtr {
        using T = std::remove_pointer_t<decltype(tag)>;
        auto out = std::make_shared<Vec<T>>(type);
        out->data().assign(rows, static_cast<const Vec<T>&>(c).data()[0]);
        return out;
      });
  }
}

ColumnPtr ToStringColumn(const ColumnPtr& col) {
  static const DataTypePtr kString = types::DataType::Get(TypeId::kString);
  switch (col->type()->id()) {
    case TypeId::kString:
      return col;
    case TypeId::kFixedString: {
      const auto& fs = static_cast<const types::ColumnFixedString&>(*col);
      auto out = std::make_shared<types::ColumnString>(kString);
      out->Reserve(fs.size());
      for (size_t i = 0; i < fs.size(); ++i) out->Append(fs.View(i));
      return out;
    }
    case TypeId::kLowCardinality: {
      const auto& lc = static_cast<const types::ColumnLowCardinality&>(*col);
      auto out = std::make_shared<types::ColumnString>(kString);
      out->Reserve(lc.size());
      const auto& dict = lc.dictionary();
      for (uint32_t idx : lc.indices()) out->Append(dict[idx]);
      return out;
    }
    default:
      return col;
  }
}

void MergeNullMap(const Datum& d, size_t rows, std::vector<uint8_t>* map) {
  if (!d.column->type()->is_nullable()) return;
  const auto& n = static_cast<const types::ColumnNullable&>(*d.column).null_map();
  uint8_t* out = map->data();
  if (d.is_const) {
    if (n[0]) std::fill(map->begin(), map->end(), 1);
    return;
  }
  for (size_t i = 0; i < rows; ++i) out[i] |= n[i];
}

ColumnPtr WrapNullable(ColumnPtr nested, std::vector<uint8_t> null_map) {
  auto type = types::DataType::Nullable(nested->type());
  auto out = std::make_shared<types::ColumnNullable>(type, std::move(nested));
  out->mutable_null_map() = std::move(null_map);
  return out;
}

ColumnPtr AllNullColumn(const DataTypePtr& type, size_t rows) {
  ColumnPtr col = types::MakeColumn(type);
  col->Reserve(rows);
  for (size_t i = 0; i < rows; ++i) col->AppendDefault();
  return col;
}

std::optional<int64_t> ConstInt(const ArgSpec& a) {
  if (!a.value || a.value->is_null()) return std::nullopt;
  switch (a.value->kind()) {
    case types::Value::Kind::kInt:
      return a.value->int_value();
    case types::Value::Kind::kUInt:
      return static_cast<int64_t>(a.value->uint_value());
    default:
      return std::nullopt;
  }
}

std::optional<std::string> ConstString(const ArgSpec& a) {
  if (!a.value || a.value->kind() != types::Value::Kind::kString) return std::nullopt;
  return a.value->string_value();
}

}  // namespace trackhouse::eval
