// and, or (n-ary, three-valued on Nullable: NULL AND 0 = 0, NULL OR 1 = 1, otherwise NULL
// wins), xor, not. Any number is a truth value (non-zero = true).
#include <cstring>

#include "eval/column_util.h"
#include "eval/type_rules.h"

namespace trackhouse::eval {
namespace {

using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;

const DataTypePtr& UInt8Type() {
  static const DataTypePtr t = DataType::Get(TypeId::kUInt8);
  return t;
}

bool IsLogicalOperand(const DataType& t) {
  const DataType& u = t.Unwrapped();
  return (u.is_numeric() && !IsInterval(u)) || IsNothing(u);
}

// Truth values of a (non-Nullable) numeric Datum, one per row (or one for a constant).
void Truth(const Datum& d, size_t n, uint8_t* out) {
  DispatchNumeric(*d.column->type(), [&](auto* tag) {
    using X = std::remove_pointer_t<decltype(tag)>;
    const X* p = Data<X>(d);
    for (size_t i = 0; i < n; ++i) out[i] = p[i] != 0;
  });
}

// acc[i] = acc[i] AND / OR truth(d[i]) for a non-constant, non-Nullable Datum.
void Accumulate(bool is_and, const Datum& d, size_t n, uint8_t* acc) {
  DispatchNumeric(*d.column->type(), [&](auto* tag) {
    using X = std::remove_pointer_t<decltype(tag)>;
    const X* p = Data<X>(d);
    if (is_and) {
      for (size_t i = 0; i < n; ++i) acc[i] &= static_cast<uint8_t>(p[i] != 0);
    } else {
      for (size_t i = 0; i < n; ++i) acc[i] |= static_cast<uint8_t>(p[i] != 0);
    }
  });
}

FunctionFactory AndOr(bool is_and) {
  return
      [is_and](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
        TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, SIZE_MAX));
        bool any_nullable = false;
        for (size_t i = 0; i < args.size(); ++i) {
          if (!IsLogicalOperand(*args[i].type)) return IllegalArgType(name, *args[i].type, i + 1);
          any_nullable |= args[i].type->is_nullable();
        }
        DataTypePtr result = any_nullable ? MakeNullable(UInt8Type()) : UInt8Type();
        return BoundFunction{result,
                             [is_and, any_nullable](const std::vector<Datum>& in,
                                                    const KernelContext& ctx) -> Result<ColumnPtr> {
                               size_t rows = ctx.rows;
                               // and: acc = "no definite false yet"; or: acc = "a definite true
                               // seen".
                               auto out = NewVector<uint8_t>(UInt8Type(), rows);
                               uint8_t* acc = out->data().data();
                               std::memset(acc, is_and ? 1 : 0, rows);
                               std::vector<uint8_t> nul(any_nullable ? rows : 0, 0);
                               std::vector<uint8_t> t;
                               for (const Datum& d : in) {
                                 const types::Column* col = d.column.get();
                                 const uint8_t* nm = nullptr;
                                 Datum v = d;
                                 if (col->type()->is_nullable()) {
                                   const auto& cn = static_cast<const types::ColumnNullable&>(*col);
                                   nm = cn.null_map().data();
                                   v.column = cn.nested_ptr();
                                 }
                                 if (d.is_const) {
                                   bool is_null = nm && nm[0];
                                   uint8_t tv = 0;
                                   if (!is_null) Truth(v, 1, &tv);
                                   if (is_null) {
                                     std::fill(nul.begin(), nul.end(), 1);
                                   } else if (is_and && !tv) {
                                     std::memset(acc, 0, rows);
                                   } else if (!is_and && tv) {
                                     std::memset(acc, 1, rows);
                                   }
                                   continue;
                                 }
                                 if (!nm) {
                                   Accumulate(is_and, v, rows, acc);
                                   continue;
                                 }
                                 if (t.empty()) t.resize(rows);
                                 Truth(v, rows, t.data());
                                 const uint8_t* tp = t.data();
                                 uint8_t* np = nul.data();
                                 if (is_and) {
                                   for (size_t i = 0; i < rows; ++i) acc[i] &= tp[i] | nm[i];
                                 } else {
                                   for (size_t i = 0; i < rows; ++i) acc[i] |= tp[i] & (nm[i] ^ 1);
                                 }
                                 for (size_t i = 0; i < rows; ++i) np[i] |= nm[i];
                               }
                               if (!any_nullable) return ColumnPtr(out);
                               // NULL where the answer is not decided: and: no false but some NULL;
                               // or: no true but some NULL.
                               for (size_t i = 0; i < rows; ++i) {
                                 uint8_t n = is_and ? (acc[i] & nul[i]) : ((acc[i] ^ 1) & nul[i]);
                                 nul[i] = n;
                                 acc[i] &= n ^ 1;
                               }
                               return WrapNullable(out, std::move(nul));
                             }};
      };
}

Result<BoundFunction> BindXor(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, SIZE_MAX));
  for (size_t i = 0; i < args.size(); ++i) {
    if (!IsLogicalOperand(*args[i].type)) return IllegalArgType(name, *args[i].type, i + 1);
  }
  return BoundFunction{
      UInt8Type(), [](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        size_t rows = ctx.rows;
        auto out = NewVector<uint8_t>(UInt8Type(), rows);
        uint8_t* acc = out->data().data();
        std::vector<uint8_t> t(rows);
        for (const Datum& d : in) {
          if (d.is_const) {
            uint8_t tv;
            Truth(d, 1, &tv);
            for (size_t i = 0; i < rows; ++i) acc[i] ^= tv;
          } else {
            Truth(d, rows, t.data());
            for (size_t i = 0; i < rows; ++i) acc[i] ^= t[i];
          }
        }
        return ColumnPtr(out);
      }};
}

Result<BoundFunction> BindNot(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
  if (!IsLogicalOperand(*args[0].type)) return IllegalArgType(name, *args[0].type, 1);
  return BoundFunction{
      UInt8Type(), [](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        auto out = NewVector<uint8_t>(UInt8Type(), ctx.rows);
        uint8_t* dst = out->data().data();
        DispatchNumeric(*in[0].column->type(), [&](auto* tag) {
          using X = std::remove_pointer_t<decltype(tag)>;
          UnaryLoop(Data<X>(in[0]), in[0].is_const, dst, ctx.rows,
                    [](X v) -> uint8_t { return v == 0; });
        });
        return ColumnPtr(out);
      }};
}

}  // namespace

void RegisterLogicalFunctions(FunctionRegistry* r) {
  FunctionTraits own_nulls{.default_nulls = false};
  r->Register("and", AndOr(true), own_nulls);
  r->Register("or", AndOr(false), own_nulls);
  r->Register("xor", BindXor);
  r->Register("not", BindNot);
}

}  // namespace trackhouse::eval
