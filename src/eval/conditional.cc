// if, multiIf, coalesce, ifNull, nullIf, assumeNotNull, isNull, isNotNull, identity,
// materialize. Branch results are brought to their least supertype; a NULL condition counts
// as false.
#include <fmt/format.h>

#include <cstring>

#include "eval/column_util.h"
#include "eval/conversion.h"
#include "eval/type_rules.h"

namespace trackhouse::eval {
namespace {

using types::Column;
using types::ColumnPtr;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;

const DataTypePtr& UInt8Type() {
  static const DataTypePtr t = DataType::Get(TypeId::kUInt8);
  return t;
}

// Row i of the result = row i of branches[which[i]] (row 0 of a constant branch). Every
// branch has type `type`.
ColumnPtr Gather(const std::vector<Datum>& branches, const std::vector<uint32_t>& which,
                 const DataTypePtr& type, size_t rows) {
  size_t k = branches.size();
  if (type->is_nullable()) {
    std::vector<Datum> nested(k);
    std::vector<const uint8_t*> maps(k);
    std::vector<size_t> step(k);
    for (size_t b = 0; b < k; ++b) {
      const auto& cn = static_cast<const types::ColumnNullable&>(*branches[b].column);
      nested[b] = Datum{cn.nested_ptr(), branches[b].is_const};
      maps[b] = cn.null_map().data();
      step[b] = branches[b].is_const ? 0 : 1;
    }
    ColumnPtr inner = Gather(nested, which, type->nested(), rows);
    std::vector<uint8_t> nulls(rows);
    for (size_t i = 0; i < rows; ++i) nulls[i] = maps[which[i]][i * step[which[i]]];
    auto out = std::make_shared<types::ColumnNullable>(type, std::move(inner));
    out->mutable_null_map() = std::move(nulls);
    return out;
  }
  switch (type->id()) {
    case TypeId::kString: {
      auto out = std::make_shared<types::ColumnString>(type);
      out->Reserve(rows);
      for (size_t i = 0; i < rows; ++i) out->Append(StrAt(branches[which[i]], i));
      return out;
    }
    case TypeId::kFixedString:
    case TypeId::kLowCardinality: {
      ColumnPtr out = types::MakeColumn(type);
      out->Reserve(rows);
      for (size_t i = 0; i < rows; ++i) {
        const Datum& d = branches[which[i]];
        out->AppendFrom(*d.column, d.is_const ? 0 : i);
      }
      return out;
    }
    default:
      return DispatchNumeric(*type, [&](auto* tag) -> ColumnPtr {
        using X = std::remove_pointer_t<decltype(tag)>;
        std::vector<const X*> ptr(k);
        std::vector<size_t> step(k);
        for (size_t b = 0; b < k; ++b) {
          ptr[b] = Data<X>(branches[b]);
          step[b] = branches[b].is_const ? 0 : 1;
        }
        auto out = NewVector<X>(type, rows);
        X* dst = out->data().data();
        for (size_t i = 0; i < rows; ++i) dst[i] = ptr[which[i]][i * step[which[i]]];
        return out;
      });
  }
}

// Truth values of a condition (numeric, maybe Nullable; NULL is false) for `rows` rows.
std::vector<uint8_t> Condition(const Datum& d, size_t rows) {
  std::vector<uint8_t> out(rows);
  const Column* col = d.column.get();
  const uint8_t* nm = nullptr;
  if (col->type()->is_nullable()) {
    const auto& cn = static_cast<const types::ColumnNullable&>(*col);
    nm = cn.null_map().data();
    col = &cn.nested();
  }
  size_t step = d.is_const ? 0 : 1;
  DispatchNumeric(*col->type(), [&](auto* tag) {
    using X = std::remove_pointer_t<decltype(tag)>;
    const X* p = static_cast<const Vec<X>&>(*col).data().data();
    if (nm) {
      for (size_t i = 0; i < rows; ++i) out[i] = (p[i * step] != 0) & !nm[i * step];
    } else {
      for (size_t i = 0; i < rows; ++i) out[i] = p[i * step] != 0;
    }
  });
  return out;
}

bool IsCondition(const DataType& t) {
  const DataType& u = t.Unwrapped();
  return (u.is_numeric() && !IsInterval(u)) || IsNothing(u);
}

Result<std::vector<Datum>> CastAll(const std::vector<Datum>& in, const DataTypePtr& type,
                                   std::string_view fn) {
  std::vector<Datum> out;
  out.reserve(in.size());
  CastOptions o;
  o.function = fn;
  for (const Datum& d : in) {
    TH_ASSIGN_OR_RETURN(Datum c, CastDatum(d, type, o));
    out.push_back(std::move(c));
  }
  return out;
}

Result<DataTypePtr> BranchType(std::string_view name, const std::vector<DataTypePtr>& types) {
  auto r = LeastSupertype(types);
  if (!r.ok()) return r.status().WithContext(fmt::format("In function {}", name));
  return r;
}

Result<BoundFunction> BindIf(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 3, 3));
  if (!IsCondition(*args[0].type)) {
    return IllegalArgType(name, *args[0].type, 1, "Must be a number (condition)");
  }
  TH_ASSIGN_OR_RETURN(DataTypePtr result, BranchType(name, {args[1].type, args[2].type}));
  std::string fn(name);
  return BoundFunction{
      result,
      [result, fn](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        size_t rows = ctx.rows;
        std::vector<uint8_t> cond = Condition(in[0], rows);
        TH_ASSIGN_OR_RETURN(auto branches, CastAll({in[1], in[2]}, result, fn));
        if (!result->is_nullable() && result->is_numeric()) {
          const Datum& a = branches[0];
          const Datum& b = branches[1];
          return DispatchNumeric(*result, [&](auto* tag) -> ColumnPtr {
            using X = std::remove_pointer_t<decltype(tag)>;
            auto out = NewVector<X>(result, rows);
            X* dst = out->data().data();
            const X* pa = Data<X>(a);
            const X* pb = Data<X>(b);
            size_t sa = a.is_const ? 0 : 1, sb = b.is_const ? 0 : 1;
            for (size_t i = 0; i < rows; ++i) dst[i] = cond[i] ? pa[i * sa] : pb[i * sb];
            return out;
          });
        }
        std::vector<uint32_t> which(rows);
        for (size_t i = 0; i < rows; ++i) which[i] = cond[i] ? 0 : 1;
        return Gather(branches, which, result, rows);
      }};
}

Result<BoundFunction> BindMultiIf(std::string_view name, const std::vector<ArgSpec>& args) {
  if (args.size() < 3 || args.size() % 2 == 0) {
    return Status::InvalidArgument(
        fmt::format("Invalid number of arguments for function {}: {} (must be odd and at least 3)",
                    name, args.size()),
        ch::kNumberOfArgumentsDoesntMatch);
  }
  std::vector<DataTypePtr> branch_types;
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (!IsCondition(*args[i].type)) return IllegalArgType(name, *args[i].type, i + 1);
    branch_types.push_back(args[i + 1].type);
  }
  branch_types.push_back(args.back().type);
  TH_ASSIGN_OR_RETURN(DataTypePtr result, BranchType(name, branch_types));
  std::string fn(name);
  return BoundFunction{
      result,
      [result, fn](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        size_t rows = ctx.rows;
        size_t k = in.size() / 2;  // conditions
        std::vector<uint32_t> which(rows, static_cast<uint32_t>(k));
        std::vector<uint8_t> decided(rows, 0);
        std::vector<Datum> values;
        for (size_t c = 0; c < k; ++c) {
          std::vector<uint8_t> cond = Condition(in[2 * c], rows);
          for (size_t i = 0; i < rows; ++i) {
            if (cond[i] && !decided[i]) {
              which[i] = static_cast<uint32_t>(c);
              decided[i] = 1;
            }
          }
          values.push_back(in[2 * c + 1]);
        }
        values.push_back(in.back());
        TH_ASSIGN_OR_RETURN(auto branches, CastAll(values, result, fn));
        return Gather(branches, which, result, rows);
      }};
}

// coalesce(a, b, ...): the first non-NULL argument per row.
Result<BoundFunction> BindCoalesce(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, SIZE_MAX));
  std::vector<DataTypePtr> nested;
  size_t used = args.size();
  bool all_nullable = true;
  for (size_t i = 0; i < args.size(); ++i) {
    nested.push_back(RemoveNullable(args[i].type));
    if (!args[i].type->is_nullable()) {
      all_nullable = false;
      used = i + 1;  // later arguments never win
      break;
    }
  }
  TH_ASSIGN_OR_RETURN(DataTypePtr inner, BranchType(name, nested));
  if (IsNothing(*inner)) all_nullable = true;
  DataTypePtr result = all_nullable ? MakeNullable(inner) : inner;
  if (IsNothing(*inner)) result = NullLiteralType();
  std::string fn(name);
  return BoundFunction{result,
                       [result, used, fn](const std::vector<Datum>& in,
                                          const KernelContext& ctx) -> Result<ColumnPtr> {
                         size_t rows = ctx.rows;
                         std::vector<uint32_t> which(rows, static_cast<uint32_t>(used - 1));
                         std::vector<uint8_t> decided(rows, 0);
                         for (size_t a = 0; a < used; ++a) {
                           const Column& c = *in[a].column;
                           size_t step = in[a].is_const ? 0 : 1;
                           if (!c.type()->is_nullable()) {
                             for (size_t i = 0; i < rows; ++i) {
                               if (!decided[i]) which[i] = static_cast<uint32_t>(a);
                             }
                             break;
                           }
                           const auto& nm = static_cast<const types::ColumnNullable&>(c).null_map();
                           for (size_t i = 0; i < rows; ++i) {
                             if (!decided[i] && !nm[i * step]) {
                               which[i] = static_cast<uint32_t>(a);
                               decided[i] = 1;
                             }
                           }
                         }
                         if (IsNullLiteralType(*result)) return AllNullColumn(result, rows);
                         // Cast to Nullable(result) so NULL rows survive the cast, then gather.
                         DataTypePtr wide = MakeNullable(result);
                         std::vector<Datum> values(in.begin(),
                                                   in.begin() + static_cast<long>(used));
                         TH_ASSIGN_OR_RETURN(auto branches, CastAll(values, wide, fn));
                         ColumnPtr g = Gather(branches, which, wide, rows);
                         if (result->is_nullable()) return g;
                         return static_cast<const types::ColumnNullable&>(*g).nested_ptr();
                       }};
}

Result<BoundFunction> BindNullIf(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
  const auto* eq = FunctionRegistry::Instance().Find("equals");
  std::vector<ArgSpec> eq_args = {args[0], args[1]};
  for (auto& a : eq_args) {
    a.type = RemoveNullable(a.type);
    a.value.reset();
  }
  if (IsNothing(*eq_args[0].type)) {
    return BoundFunction{
        NullLiteralType(),
        [](const std::vector<Datum>&, const KernelContext& ctx) -> Result<ColumnPtr> {
          return AllNullColumn(NullLiteralType(), ctx.rows);
        }};
  }
  BoundFunction equals;
  if (IsNothing(*eq_args[1].type)) {
    equals.result_type = nullptr;  // never equal
  } else {
    TH_ASSIGN_OR_RETURN(equals, eq->factory("equals", eq_args));
  }
  DataTypePtr result = MakeNullable(args[0].type);
  return BoundFunction{
      result,
      [result, equals](const std::vector<Datum>& in,
                       const KernelContext& ctx) -> Result<ColumnPtr> {
        size_t rows = ctx.rows;
        TH_ASSIGN_OR_RETURN(Datum a, CastDatum(in[0], result));
        ColumnPtr full = Materialize(a, rows);
        const auto& an = static_cast<const types::ColumnNullable&>(*full);
        std::vector<uint8_t> nulls = an.null_map();
        if (equals.kernel) {
          std::vector<uint8_t> any_null(rows, 0);
          std::vector<Datum> nested;
          for (const Datum& d : in) {
            MergeNullMap(d, rows, &any_null);
            if (d.column->type()->is_nullable()) {
              nested.push_back(
                  {static_cast<const types::ColumnNullable&>(*d.column).nested_ptr(), d.is_const});
            } else {
              nested.push_back(d);
            }
          }
          KernelContext kc = ctx;
          kc.null_rows = any_null.data();
          TH_ASSIGN_OR_RETURN(ColumnPtr eqc, equals.kernel(nested, kc));
          const uint8_t* e = static_cast<const Vec<uint8_t>&>(*eqc).data().data();
          for (size_t i = 0; i < rows; ++i) nulls[i] |= e[i] & !any_null[i];
        }
        auto out = std::make_shared<types::ColumnNullable>(result, an.nested_ptr());
        out->mutable_null_map() = std::move(nulls);
        return ColumnPtr(out);
      }};
}

Result<BoundFunction> BindAssumeNotNull(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
  DataTypePtr result = RemoveNullable(args[0].type);
  return BoundFunction{
      result, [](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        Datum d = in[0];
        if (d.column->type()->is_nullable()) {
          d.column = static_cast<const types::ColumnNullable&>(*d.column).nested_ptr();
        }
        return Materialize(d, ctx.rows);
      }};
}

FunctionFactory IsNullFn(bool want_null) {
  return [want_null](std::string_view name,
                     const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
    return BoundFunction{
        UInt8Type(),
        [want_null](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
          size_t rows = ctx.rows;
          auto out = NewVector<uint8_t>(UInt8Type(), rows);
          uint8_t* dst = out->data().data();
          const Column& c = *in[0].column;
          if (!c.type()->is_nullable()) {
            std::memset(dst, want_null ? 0 : 1, rows);
            return ColumnPtr(out);
          }
          const uint8_t* nm = static_cast<const types::ColumnNullable&>(c).null_map().data();
          size_t step = in[0].is_const ? 0 : 1;
          for (size_t i = 0; i < rows; ++i)
            dst[i] = want_null ? nm[i * step] != 0 : nm[i * step] == 0;
          return ColumnPtr(out);
        }};
  };
}

Result<BoundFunction> BindIdentity(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
  return BoundFunction{
      args[0].type,
      [](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        return Materialize(in[0], ctx.rows);
      }};
}

}  // namespace

void RegisterConditionalFunctions(FunctionRegistry* r) {
  FunctionTraits own_nulls{.default_nulls = false};
  FunctionTraits own_nulls_ci{.default_nulls = false, .case_insensitive = true};
  r->Register("if", BindIf, own_nulls_ci);
  r->Register("multiIf", BindMultiIf, own_nulls);
  r->Register("coalesce", BindCoalesce, own_nulls_ci);
  r->Register("ifNull", BindCoalesce, own_nulls_ci);
  r->Register("nullIf", BindNullIf, own_nulls_ci);
  r->Register("assumeNotNull", BindAssumeNotNull, own_nulls);
  r->Register("isNull", IsNullFn(true), own_nulls_ci);
  r->Register("isNotNull", IsNullFn(false), own_nulls_ci);
  FunctionTraits raw{.default_nulls = false, .default_low_cardinality = false};
  r->Register("identity", BindIdentity, raw);
  FunctionTraits raw_volatile{
      .default_nulls = false, .default_low_cardinality = false, .foldable = false};
  r->Register("materialize", BindIdentity, raw_volatile);
}

}  // namespace trackhouse::eval
