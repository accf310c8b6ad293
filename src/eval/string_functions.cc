// String functions (bytes, as ClickHouse's non-UTF8 variants): length, empty, notEmpty,
// lengthUTF8, lower, upper, reverse, concat, substring, position, positionCaseInsensitive,
// startsWith, endsWith, trimLeft / trimRight / trimBoth, replaceOne / replaceAll, repeat,
// and LIKE: like, notLike, ilike, notILike.
//
// LIKE patterns (`%` any run of bytes, `_` one UTF-8 character, `\` escapes the next
// character) are compiled once when constant, with fast paths for an exact match, a prefix,
// a suffix and a substring.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "eval/column_util.h"
#include "eval/conversion.h"
#include "eval/type_rules.h"

namespace trackhouse::eval {
namespace {

using types::ColumnPtr;
using types::ColumnString;
using types::DataType;
using types::DataTypePtr;
using types::TypeId;

const DataTypePtr& StringType() {
  static const DataTypePtr t = DataType::Get(TypeId::kString);
  return t;
}
const DataTypePtr& UInt8Type() {
  static const DataTypePtr t = DataType::Get(TypeId::kUInt8);
  return t;
}
const DataTypePtr& UInt64Type() {
  static const DataTypePtr t = DataType::Get(TypeId::kUInt64);
  return t;
}

Status RequireString(std::string_view name, const std::vector<ArgSpec>& args, size_t i) {
  if (!args[i].type->is_string_like()) return IllegalArgType(name, *args[i].type, i + 1);
  return Status::OK();
}

Status RequireInteger(std::string_view name, const std::vector<ArgSpec>& args, size_t i) {
  const DataType& t = *args[i].type;
  if (!t.is_integer() && t.id() != TypeId::kBool) return IllegalArgType(name, t, i + 1);
  return Status::OK();
}

std::shared_ptr<ColumnString> NewStrings(size_t rows) {
  auto out = std::make_shared<ColumnString>(StringType());
  out->Reserve(rows);
  return out;
}

inline char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
inline char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// ------------------------------------------------------------ unary

// f(string) -> number, one value per row.
template <typename R, typename F>
FunctionFactory StringToNumber(DataTypePtr result, F f) {
  return [result, f](std::string_view name,
                     const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
    TH_RETURN_IF_ERROR(RequireString(name, args, 0));
    return BoundFunction{
        result,
        [result, f](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
          auto out = NewVector<R>(result, ctx.rows);
          R* dst = out->data().data();
          if (in[0].is_const) {
            R v = f(StrAt(in[0], 0));
            for (size_t i = 0; i < ctx.rows; ++i) dst[i] = v;
          } else {
            const ColumnString& s = Str(in[0]);
            for (size_t i = 0; i < ctx.rows; ++i) dst[i] = f(s.View(i));
          }
          return ColumnPtr(out);
        }};
  };
}

// f(string, &out) -> string.
using StringMap = std::function<void(std::string_view, std::string*)>;

FunctionFactory StringToString(StringMap f) {
  return [f](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 1, 1));
    TH_RETURN_IF_ERROR(RequireString(name, args, 0));
    return BoundFunction{
        StringType(),
        [f](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
          auto out = NewStrings(ctx.rows);
          std::string buf;
          for (size_t i = 0; i < ctx.rows; ++i) {
            buf.clear();
            f(StrAt(in[0], i), &buf);
            out->Append(buf);
          }
          return ColumnPtr(out);
        }};
  };
}

// ------------------------------------------------------------ concat

Result<BoundFunction> BindConcat(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, SIZE_MAX));
  for (size_t i = 0; i < args.size(); ++i) {
    Status st = CheckCastable(*args[i].type, *StringType(), name);
    if (!st.ok()) return IllegalArgType(name, *args[i].type, i + 1);
  }
  return BoundFunction{
      StringType(),
      [](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        std::vector<Datum> parts;
        for (const Datum& d : in) {
          TH_ASSIGN_OR_RETURN(Datum s, CastDatum(d, StringType()));
          parts.push_back(std::move(s));
        }
        auto out = NewStrings(ctx.rows);
        std::string buf;
        for (size_t i = 0; i < ctx.rows; ++i) {
          buf.clear();
          for (const Datum& p : parts) buf.append(StrAt(p, i));
          out->Append(buf);
        }
        return ColumnPtr(out);
      }};
}

// ------------------------------------------------------------ substring

// ClickHouse's byte slice: offset 1-based, negative from the end, 0 gives ''; a negative
// length drops that many bytes from the end.
inline std::string_view Slice(std::string_view s, int64_t offset, bool has_length, int64_t length) {
  int64_t size = static_cast<int64_t>(s.size());
  if (offset == 0) return {};
  int64_t start = offset > 0 ? offset - 1 : size + offset;  // may be negative
  int64_t end;
  if (!has_length) {
    end = size;
  } else if (length >= 0) {
    end = start + length;
  } else {
    end = size + length;
  }
  start = std::max<int64_t>(start, 0);
  end = std::min<int64_t>(end, size);
  if (start >= end) return {};
  return s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start));
}

Result<BoundFunction> BindSubstring(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 3));
  TH_RETURN_IF_ERROR(RequireString(name, args, 0));
  TH_RETURN_IF_ERROR(RequireInteger(name, args, 1));
  if (args.size() == 3) TH_RETURN_IF_ERROR(RequireInteger(name, args, 2));
  DataTypePtr i64 = DataType::Get(TypeId::kInt64);
  return BoundFunction{
      StringType(),
      [i64](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        TH_ASSIGN_OR_RETURN(Datum off, CastDatum(in[1], i64));
        Datum len;
        bool has_length = in.size() == 3;
        if (has_length) {
          TH_ASSIGN_OR_RETURN(len, CastDatum(in[2], i64));
        }
        const int64_t* po = Data<int64_t>(off);
        const int64_t* pl = has_length ? Data<int64_t>(len) : nullptr;
        size_t so = off.is_const ? 0 : 1, sl = (has_length && !len.is_const) ? 1 : 0;
        auto out = NewStrings(ctx.rows);
        for (size_t i = 0; i < ctx.rows; ++i) {
          out->Append(Slice(StrAt(in[0], i), po[i * so], has_length, pl ? pl[i * sl] : 0));
        }
        return ColumnPtr(out);
      }};
}

// ------------------------------------------------------------ search

// position(haystack, needle): 1-based byte position of the first occurrence, 0 if none.
FunctionFactory Position(bool case_insensitive) {
  return [case_insensitive](std::string_view name,
                            const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
    TH_RETURN_IF_ERROR(RequireString(name, args, 0));
    TH_RETURN_IF_ERROR(RequireString(name, args, 1));
    return BoundFunction{UInt64Type(),
                         [case_insensitive](const std::vector<Datum>& in,
                                            const KernelContext& ctx) -> Result<ColumnPtr> {
                           auto out = NewVector<uint64_t>(UInt64Type(), ctx.rows);
                           uint64_t* dst = out->data().data();
                           std::string h, n;
                           for (size_t i = 0; i < ctx.rows; ++i) {
                             std::string_view hay = StrAt(in[0], i), needle = StrAt(in[1], i);
                             if (case_insensitive) {
                               h.assign(hay);
                               n.assign(needle);
                               for (char& c : h) c = AsciiLower(c);
                               for (char& c : n) c = AsciiLower(c);
                               hay = h;
                               needle = n;
                             }
                             size_t p = hay.find(needle);
                             dst[i] = p == std::string_view::npos ? 0 : p + 1;
                           }
                           return ColumnPtr(out);
                         }};
  };
}

FunctionFactory StartsEnds(bool starts) {
  return
      [starts](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
        TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
        TH_RETURN_IF_ERROR(RequireString(name, args, 0));
        TH_RETURN_IF_ERROR(RequireString(name, args, 1));
        return BoundFunction{
            UInt8Type(),
            [starts](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
              auto out = NewVector<uint8_t>(UInt8Type(), ctx.rows);
              uint8_t* dst = out->data().data();
              for (size_t i = 0; i < ctx.rows; ++i) {
                std::string_view s = StrAt(in[0], i), p = StrAt(in[1], i);
                dst[i] = starts ? s.starts_with(p) : s.ends_with(p);
              }
              return ColumnPtr(out);
            }};
      };
}

// ------------------------------------------------------------ replace, repeat

FunctionFactory Replace(bool all) {
  return [all](std::string_view name, const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 3, 3));
    for (size_t i = 0; i < 3; ++i) TH_RETURN_IF_ERROR(RequireString(name, args, i));
    return BoundFunction{
        StringType(),
        [all](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
          auto out = NewStrings(ctx.rows);
          std::string buf;
          for (size_t i = 0; i < ctx.rows; ++i) {
            std::string_view s = StrAt(in[0], i), from = StrAt(in[1], i), to = StrAt(in[2], i);
            if (from.empty()) {
              out->Append(s);
              continue;
            }
            buf.clear();
            size_t pos = 0;
            while (true) {
              size_t p = s.find(from, pos);
              if (p == std::string_view::npos) break;
              buf.append(s.substr(pos, p - pos));
              buf.append(to);
              pos = p + from.size();
              if (!all) break;
            }
            buf.append(s.substr(pos));
            out->Append(buf);
          }
          return ColumnPtr(out);
        }};
  };
}

Result<BoundFunction> BindRepeat(std::string_view name, const std::vector<ArgSpec>& args) {
  TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
  TH_RETURN_IF_ERROR(RequireString(name, args, 0));
  TH_RETURN_IF_ERROR(RequireInteger(name, args, 1));
  DataTypePtr i64 = DataType::Get(TypeId::kInt64);
  return BoundFunction{
      StringType(),
      [i64](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
        TH_ASSIGN_OR_RETURN(Datum n, CastDatum(in[1], i64));
        const int64_t* pn = Data<int64_t>(n);
        auto out = NewStrings(ctx.rows);
        std::string buf;
        for (size_t i = 0; i < ctx.rows; ++i) {
          int64_t times = pn[n.is_const ? 0 : i];
          std::string_view s = StrAt(in[0], i);
          if (times > 0 && s.size() * static_cast<uint64_t>(times) > (1u << 30)) {
            return Status::InvalidArgument("Too large string size in function repeat",
                                           ch::kTooLargeStringSize);
          }
          buf.clear();
          for (int64_t k = 0; k < times; ++k) buf.append(s);
          out->Append(buf);
        }
        return ColumnPtr(out);
      }};
}

// ------------------------------------------------------------ LIKE

// A compiled LIKE pattern.
class LikeMatcher {
 public:
  LikeMatcher(std::string_view pattern, bool case_insensitive) : ci_(case_insensitive) {
    // Tokenize: literal bytes, '_' (kAny) and '%' (kStar); escapes make the next byte literal.
    for (size_t i = 0; i < pattern.size(); ++i) {
      char c = pattern[i];
      if (c == '\\' && i + 1 < pattern.size()) {
        AddLiteral(pattern[++i]);
      } else if (c == '%') {
        if (tokens_.empty() || tokens_.back().kind != Kind::kStar)
          tokens_.push_back({Kind::kStar, {}});
      } else if (c == '_') {
        tokens_.push_back({Kind::kAny, {}});
      } else {
        AddLiteral(c);
      }
    }
    Classify();
  }

  bool Match(std::string_view s) const {
    std::string lowered;
    if (ci_) {
      lowered.assign(s);
      for (char& c : lowered) c = AsciiLower(c);
      s = lowered;
    }
    switch (shape_) {
      case Shape::kAll:
        return true;
      case Shape::kExact:
        return s == fixed_;
      case Shape::kPrefix:
        return s.starts_with(fixed_);
      case Shape::kSuffix:
        return s.ends_with(fixed_);
      case Shape::kContains:
        return s.find(fixed_) != std::string_view::npos;
      case Shape::kGeneral:
        return MatchFrom(s, 0);
    }
    return false;
  }

 private:
  enum class Kind : uint8_t { kLiteral, kAny, kStar };
  struct Token {
    Kind kind;
    std::string text;  // kLiteral: a run of bytes
  };
  enum class Shape : uint8_t { kAll, kExact, kPrefix, kSuffix, kContains, kGeneral };

  void AddLiteral(char c) {
    if (ci_) c = AsciiLower(c);
    if (tokens_.empty() || tokens_.back().kind != Kind::kLiteral) {
      tokens_.push_back({Kind::kLiteral, {}});
    }
    tokens_.back().text.push_back(c);
  }

  void Classify() {
    size_t n = tokens_.size();
    auto lit = [&](size_t i) { return i < n && tokens_[i].kind == Kind::kLiteral; };
    auto star = [&](size_t i) { return i < n && tokens_[i].kind == Kind::kStar; };
    shape_ = Shape::kGeneral;
    if (n == 0) {
      shape_ = Shape::kExact;  // '' matches only ''
    } else if (n == 1 && star(0)) {
      shape_ = Shape::kAll;
    } else if (n == 1 && lit(0)) {
      shape_ = Shape::kExact;
      fixed_ = tokens_[0].text;
    } else if (n == 2 && lit(0) && star(1)) {
      shape_ = Shape::kPrefix;
      fixed_ = tokens_[0].text;
    } else if (n == 2 && star(0) && lit(1)) {
      shape_ = Shape::kSuffix;
      fixed_ = tokens_[1].text;
    } else if (n == 3 && star(0) && lit(1) && star(2)) {
      shape_ = Shape::kContains;
      fixed_ = tokens_[1].text;
    }
  }

  static size_t Utf8Len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

  // Matches tokens_[t..] against s; backtracks only at '%'.
  bool MatchFrom(std::string_view s, size_t t) const {
    size_t pos = 0;
    for (; t < tokens_.size(); ++t) {
      const Token& tok = tokens_[t];
      switch (tok.kind) {
        case Kind::kLiteral:
          if (s.substr(pos, tok.text.size()) != tok.text) return false;
          pos += tok.text.size();
          break;
        case Kind::kAny:
          if (pos >= s.size()) return false;
          pos += std::min(Utf8Len(static_cast<unsigned char>(s[pos])), s.size() - pos);
          break;
        case Kind::kStar: {
          if (t + 1 == tokens_.size()) return true;
          for (size_t start = pos; start <= s.size(); ++start) {
            if (MatchFrom(s.substr(start), t + 1)) return true;
          }
          return false;
        }
      }
    }
    return pos == s.size();
  }

  bool ci_;
  std::vector<Token> tokens_;
  Shape shape_ = Shape::kGeneral;
  std::string fixed_;
};

FunctionFactory Like(bool negate, bool case_insensitive) {
  return [negate, case_insensitive](std::string_view name,
                                    const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    TH_RETURN_IF_ERROR(CheckArgCount(name, args.size(), 2, 2));
    TH_RETURN_IF_ERROR(RequireString(name, args, 0));
    TH_RETURN_IF_ERROR(RequireString(name, args, 1));
    std::shared_ptr<const LikeMatcher> fixed;
    if (auto p = ConstString(args[1])) {
      fixed = std::make_shared<LikeMatcher>(*p, case_insensitive);
    }
    return BoundFunction{
        UInt8Type(),
        [negate, case_insensitive, fixed](const std::vector<Datum>& in,
                                          const KernelContext& ctx) -> Result<ColumnPtr> {
          auto out = NewVector<uint8_t>(UInt8Type(), ctx.rows);
          uint8_t* dst = out->data().data();
          std::shared_ptr<const LikeMatcher> m = fixed;
          if (!m && in[1].is_const) {
            m = std::make_shared<LikeMatcher>(StrAt(in[1], 0), case_insensitive);
          }
          for (size_t i = 0; i < ctx.rows; ++i) {
            bool r = m ? m->Match(StrAt(in[0], i))
                       : LikeMatcher(StrAt(in[1], i), case_insensitive).Match(StrAt(in[0], i));
            dst[i] = r != negate;
          }
          return ColumnPtr(out);
        }};
  };
}

}  // namespace

// length(): bytes of a string, or elements of an array.
FunctionFactory LengthFn() {
  FunctionFactory of_string =
      StringToNumber<uint64_t>(UInt64Type(), [](std::string_view s) { return s.size(); });
  return [of_string](std::string_view name,
                     const std::vector<ArgSpec>& args) -> Result<BoundFunction> {
    if (args.size() != 1 || !args[0].type->is_array()) return of_string(name, args);
    DataTypePtr result = UInt64Type();
    return BoundFunction{
        result, [result](const std::vector<Datum>& in, const KernelContext& ctx) -> Result<ColumnPtr> {
          const auto& arr = static_cast<const types::ColumnArray&>(*in[0].column);
          const auto& offsets = arr.offsets();
          auto out = NewVector<uint64_t>(result, ctx.rows);
          uint64_t* dst = out->data().data();
          for (size_t i = 0; i < ctx.rows; ++i) {
            size_t r = in[0].is_const ? 0 : i;
            dst[i] = offsets[r] - (r == 0 ? 0 : offsets[r - 1]);
          }
          return ColumnPtr(out);
        }};
  };
}

void RegisterStringFunctions(FunctionRegistry* r) {
  FunctionTraits ci{.case_insensitive = true};
  r->Register("length", LengthFn(), ci);
  r->Alias("char_length", "length", true);
  r->Alias("character_length", "length", true);
  r->Register("lengthUTF8", StringToNumber<uint64_t>(UInt64Type(), [](std::string_view s) {
                uint64_t n = 0;
                for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
                return n;
              }));
  r->Register("empty",
              StringToNumber<uint8_t>(UInt8Type(), [](std::string_view s) { return s.empty(); }));
  r->Register("notEmpty",
              StringToNumber<uint8_t>(UInt8Type(), [](std::string_view s) { return !s.empty(); }));
  r->Register("lower", StringToString([](std::string_view s, std::string* o) {
                o->resize(s.size());
                for (size_t i = 0; i < s.size(); ++i) (*o)[i] = AsciiLower(s[i]);
              }),
              ci);
  r->Alias("lcase", "lower", true);
  r->Register("upper", StringToString([](std::string_view s, std::string* o) {
                o->resize(s.size());
                for (size_t i = 0; i < s.size(); ++i) (*o)[i] = AsciiUpper(s[i]);
              }),
              ci);
  r->Alias("ucase", "upper", true);
  r->Register("reverse", StringToString([](std::string_view s, std::string* o) {
                o->assign(s.rbegin(), s.rend());
              }),
              ci);
  r->Register("trimLeft", StringToString([](std::string_view s, std::string* o) {
                size_t b = s.find_first_not_of(' ');
                if (b != std::string_view::npos) o->assign(s.substr(b));
              }));
  r->Alias("ltrim", "trimLeft", true);
  r->Register("trimRight", StringToString([](std::string_view s, std::string* o) {
                size_t e = s.find_last_not_of(' ');
                if (e != std::string_view::npos) o->assign(s.substr(0, e + 1));
              }));
  r->Alias("rtrim", "trimRight", true);
  r->Register("trimBoth", StringToString([](std::string_view s, std::string* o) {
                size_t b = s.find_first_not_of(' ');
                if (b == std::string_view::npos) return;
                size_t e = s.find_last_not_of(' ');
                o->assign(s.substr(b, e - b + 1));
              }));
  r->Register("concat", BindConcat, ci);
  r->Register("substring", BindSubstring, ci);
  r->Alias("substr", "substring", true);
  r->Alias("mid", "substring", true);
  r->Register("position", Position(false), ci);
  r->Alias("locate", "position", true);
  r->Register("positionCaseInsensitive", Position(true));
  r->Register("startsWith", StartsEnds(true));
  r->Register("endsWith", StartsEnds(false));
  r->Register("replaceOne", Replace(false));
  r->Register("replaceAll", Replace(true));
  r->Alias("replace", "replaceAll", true);
  r->Register("repeat", BindRepeat, ci);
  r->Register("like", Like(false, false));
  r->Register("notLike", Like(true, false));
  r->Register("ilike", Like(false, true));
  r->Register("notILike", Like(true, true));
}

}  // namespace trackhouse::eval
