#include "engine/part_encoding.h"

#include <emmintrin.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <utility>

#include "common/coding.h"

namespace trackhouse::engine {

using types::Column;
using types::ColumnFixedString;
using types::ColumnLowCardinality;
using types::ColumnNullable;
using types::ColumnString;
using types::ColumnVector;
using types::DataType;
using types::TypeId;

namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;
constexpr uint8_t kOwnRefFlag = 0x80;
constexpr uint8_t kWidthMask = 0x7f;

// ---- integer stream keys ----
//
// Every integer value is widened to 64 bits (sign-extended for signed types) and handled as a
// u64 with wrapping arithmetic. kPack keys are order-preserving (signed values get their sign
// bit flipped) so that frame-of-reference subtracts a small minimum. kDeltaPack keys are the
// wrapping difference from the previous value, sign bit flipped (a delta of 0 is kSignBit).

template <typename T>
uint64_t Widen(T v) {
  if constexpr (std::is_signed_v<T>) {
    return static_cast<uint64_t>(static_cast<int64_t>(v));
  } else {
    return static_cast<uint64_t>(v);
  }
}

template <typename T>
uint64_t PackKey(T v) {
  if constexpr (std::is_signed_v<T>) {
    return Widen(v) ^ kSignBit;
  } else {
    return Widen(v);
  }
}

template <typename T>
T FromPackKey(uint64_t k) {
  if constexpr (std::is_signed_v<T>) {
    return static_cast<T>(static_cast<int64_t>(k ^ kSignBit));
  } else {
    return static_cast<T>(k);
  }
}

inline int BitWidth(uint64_t range) { return range == 0 ? 0 : 64 - std::countl_zero(range); }

inline size_t PackedBytes(size_t count, int width) { return (count * width + 7) / 8; }

inline size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline char* EncodeVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Packs (v[i] - ref) in `width` bits each, LSB first, padded to a whole byte. Writes exactly
// PackedBytes(count, width) bytes, though it may touch up to 8 bytes past them.
inline char* PackBits(const uint64_t* v, size_t count, int width, uint64_t ref, char* p) {
  if (width == 0) return p;
  uint64_t acc = 0;
  int nb = 0;
  for (size_t i = 0; i < count; ++i) {
    uint64_t x = v[i] - ref;
    acc |= x << nb;
    if (nb + width >= 64) {
      std::memcpy(p, &acc, 8);
      p += 8;
      acc = nb == 0 ? 0 : x >> (64 - nb);
      nb = nb + width - 64;
    } else {
      nb += width;
    }
  }
  size_t tail = (nb + 7) / 8;
  std::memcpy(p, &acc, 8);
  return p + tail;
}

// Unpacks `count` values of `width` bits from p (which must have PackedBytes + 8 readable
// bytes), adding ref.
inline void UnpackBits(const char* p, size_t count, int width, uint64_t ref, uint64_t* out) {
  if (width == 0) {
    for (size_t i = 0; i < count; ++i) out[i] = ref;
    return;
  }
  const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  size_t bit = 0;
  if (width <= 56) {
    for (size_t i = 0; i < count; ++i, bit += width) {
      uint64_t x;
      std::memcpy(&x, p + (bit >> 3), 8);
      out[i] = ((x >> (bit & 7)) & mask) + ref;
    }
    return;
  }
  for (size_t i = 0; i < count; ++i, bit += width) {
    uint64_t x;
    std::memcpy(&x, p + (bit >> 3), 8);
    int sh = static_cast<int>(bit & 7);
    x >>= sh;
    if (sh != 0) x |= static_cast<uint64_t>(static_cast<uint8_t>(p[(bit >> 3) + 8])) << (64 - sh);
    out[i] = (x & mask) + ref;
  }
}

// A whole miniblock of a width known at compile time: every shift and load offset is a
// constant, so the loop unrolls into straight-line code. The hot path of every scan.
template <int W>
void UnpackMiniblock(const char* p, uint64_t ref, uint64_t* out) {
  if constexpr (W > 56) {
    UnpackBits(p, kMiniblockRows, W, ref, out);
  } else {
    constexpr uint64_t kMask = W == 0 ? 0 : (uint64_t{1} << W) - 1;
#pragma GCC unroll 32
    for (size_t i = 0; i < kMiniblockRows; ++i) {
      uint64_t x;
      std::memcpy(&x, p + (i * W >> 3), 8);
      out[i] = ((x >> (i * W & 7)) & kMask) + ref;
    }
  }
}

using MiniblockUnpacker = void (*)(const char*, uint64_t, uint64_t*);

template <size_t... W>
constexpr std::array<MiniblockUnpacker, sizeof...(W)> MakeUnpackers(std::index_sequence<W...>) {
  return {&UnpackMiniblock<static_cast<int>(W)>...};
}

// kUnpackers[w] unpacks a full miniblock of width w (0..64).
constexpr auto kUnpackers = MakeUnpackers(std::make_index_sequence<65>());

// The same for 32-bit columns: unpacked straight into the column, modulo 2^32 (all a 32-bit
// value keeps of the 64-bit stream arithmetic, since truncation commutes with addition). Widths
// up to 56 (a DateTime's differences across a sort-key boundary take 33 or so): each value is
// then within one 8-byte load.
template <int W>
void UnpackMiniblock32(const char* p, uint32_t ref, uint32_t* out) {
  constexpr uint64_t kMask = W == 0 ? 0 : (uint64_t{1} << W) - 1;
#pragma GCC unroll 32
  for (size_t i = 0; i < kMiniblockRows; ++i) {
    uint64_t x;
    std::memcpy(&x, p + (i * W >> 3), 8);
    out[i] = static_cast<uint32_t>((x >> (i * W & 7)) & kMask) + ref;
  }
}

using MiniblockUnpacker32 = void (*)(const char*, uint32_t, uint32_t*);

template <size_t... W>
constexpr std::array<MiniblockUnpacker32, sizeof...(W)> MakeUnpackers32(
    std::index_sequence<W...>) {
  return {&UnpackMiniblock32<static_cast<int>(W)>...};
}

constexpr auto kUnpackers32 = MakeUnpackers32(std::make_index_sequence<57>());

// Running sum of a miniblock's values in place, starting from acc, modulo 2^32; returns the
// last sum. Four lanes at a time: the dependency chain is one vector add per four values.
inline uint32_t PrefixSumMiniblock32(uint32_t* v, uint32_t acc) {
  static_assert(kMiniblockRows % 4 == 0);
#if defined(__SSE2__)
  __m128i carry = _mm_set1_epi32(static_cast<int>(acc));
  for (size_t i = 0; i < kMiniblockRows; i += 4) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v + i));
    x = _mm_add_epi32(x, _mm_slli_si128(x, 4));
    x = _mm_add_epi32(x, _mm_slli_si128(x, 8));
    x = _mm_add_epi32(x, carry);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(v + i), x);
    carry = _mm_shuffle_epi32(x, 0xff);
  }
  return static_cast<uint32_t>(_mm_cvtsi128_si32(carry));
#else
  for (size_t i = 0; i < kMiniblockRows; ++i) v[i] = acc += v[i];
  return acc;
#endif
}

Status Malformed(std::string_view what, size_t need, size_t have) {
  return Status::Corruption(
      fmt::format("granule payload is malformed: {} needs {} bytes, {} left", what, need, have));
}

// Decodes `rows` values of type T from the front of *in into dst: plain little-endian values,
// or a kPack/kDeltaPack stream unpacked one miniblock at a time and turned into values while
// the miniblock is in registers and L1.
template <typename T>
Status DecodeVector(std::string_view* in, size_t rows, Transform t, T* dst) {
  if (t == Transform::kPlain) {
    size_t need = rows * sizeof(T);
    if (in->size() < need) return Malformed("plain values", need, in->size());
    std::memcpy(dst, in->data(), need);
    in->remove_prefix(need);
    return Status::OK();
  }
  uint64_t acc = 0;  // kDeltaPack: the running value
  if (t == Transform::kDeltaPack && !GetVarint64(in, &acc)) {
    return Malformed("first value", 1, in->size());
  }
  uint64_t base;
  if (!GetVarint64(in, &base)) return Malformed("reference value", 1, in->size());
  uint64_t keys[kMiniblockRows];
  char local[kMiniblockRows * 8 + 16];
  for (size_t done = 0; done < rows; done += kMiniblockRows) {
    size_t cnt = std::min(kMiniblockRows, rows - done);
    if (in->empty()) return Malformed("miniblock header", 1, 0);
    uint8_t h = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    int width = h & kWidthMask;
    if (width > 64) {
      return Status::Corruption(fmt::format(
          "granule payload is malformed: bit width {} of miniblock at row {}", width, done));
    }
    uint64_t ref = base;
    if (h & kOwnRefFlag) {
      uint64_t off;
      if (!GetVarint64(in, &off)) return Malformed("miniblock reference", 1, in->size());
      ref = base + off;
    }
    size_t need = PackedBytes(cnt, width);
    if (in->size() < need) return Malformed("miniblock values", need, in->size());
    const char* src = in->data();
    if (in->size() < need + 8) {  // too close to the end for 8-byte loads: copy out
      std::memset(local, 0, sizeof(local));
      std::memcpy(local, src, need);
      src = local;
    }
    if constexpr (sizeof(T) == 4 && std::is_integral_v<T>) {
      if (cnt == kMiniblockRows && width <= 56) {
        // Truncated to 32 bits, a kPack key is the value and a kDeltaPack key the difference
        // (the sign-bit flip is in bit 63): unpack into the column, then sum the differences.
        uint32_t* out = reinterpret_cast<uint32_t*>(dst + done);
        kUnpackers32[width](src, static_cast<uint32_t>(ref), out);
        if (t == Transform::kDeltaPack) {
          acc = PrefixSumMiniblock32(out, static_cast<uint32_t>(acc));
        }
        in->remove_prefix(need);
        continue;
      }
    }
    if (cnt == kMiniblockRows) {
      kUnpackers[width](src, ref, keys);
    } else {
      UnpackBits(src, cnt, width, ref, keys);
    }
    in->remove_prefix(need);
    T* out = dst + done;
    if (t == Transform::kPack) {
      for (size_t i = 0; i < cnt; ++i) out[i] = FromPackKey<T>(keys[i]);
    } else {
      for (size_t i = 0; i < cnt; ++i) {
        acc += keys[i] ^ kSignBit;
        out[i] = static_cast<T>(acc);
      }
    }
  }
  return Status::OK();
}

bool IsVectorType(TypeId id) {
  return id != TypeId::kString && id != TypeId::kFixedString && id != TypeId::kLowCardinality &&
         id != TypeId::kNullable;
}

Status CheckConsumed(std::string_view rest, size_t rows) {
  if (!rest.empty()) {
    return Status::Corruption(fmt::format(
        "granule payload is malformed: {} trailing bytes after {} rows", rest.size(), rows));
  }
  return Status::OK();
}

// Decodes the payload of a non-Nullable column from the front of *in.
Status DecodeInto(std::string_view* in, size_t rows, Transform t,
                  const std::vector<std::string>* dict, bool dict_in_column, Column* column) {
  const DataType& type = *column->type();
  switch (type.id()) {
    case TypeId::kString:
    case TypeId::kFixedString:
      return column->Deserialize(in, rows);
    case TypeId::kLowCardinality: {
      if (dict == nullptr) return Status::Internal("LowCardinality granule without dictionary");
      auto& lc = static_cast<ColumnLowCardinality&>(*column);
      auto& out = lc.indices();
      const size_t old = out.size();
      out.resize(old + rows);
      uint32_t* idx = out.data() + old;
      Status s = DecodeVector<uint32_t>(in, rows, t, idx);
      if (!s.ok()) {
        out.resize(old);
        return s;
      }
      uint32_t max = 0;
      for (size_t i = 0; i < rows; ++i) max = std::max(max, idx[i]);
      if (rows > 0 && max >= dict->size()) {
        size_t row = std::find_if(idx, idx + rows, [&](uint32_t v) { return v >= dict->size(); }) -
                     idx;
        out.resize(old);
        return Status::Corruption(fmt::format(
            "granule payload is malformed: LowCardinality index {} of row {} is past the "
            "dictionary size {}",
            idx[row], row, dict->size()));
      }
      if (dict_in_column) return Status::OK();  // the part's indices are the column's
      std::vector<uint32_t> remap(dict->size(), UINT32_MAX);
      for (size_t i = 0; i < rows; ++i) {
        uint32_t v = idx[i];
        if (remap[v] == UINT32_MAX) remap[v] = lc.Intern((*dict)[v]);
        idx[i] = remap[v];
      }
      return Status::OK();
    }
    case TypeId::kNullable:
      return Status::Internal("nested Nullable column");
    default:
      return types::DispatchVector(type.id(), [&](auto* tag) -> Status {
        using T = std::remove_pointer_t<decltype(tag)>;
        auto& data = static_cast<ColumnVector<T>&>(*column).data();
        size_t old = data.size();
        data.resize(old + rows);
        if constexpr (std::is_floating_point_v<T>) {
          t = Transform::kPlain;  // floats are always plain
        }
        Status s = DecodeVector<T>(in, rows, t, data.data() + old);
        if (!s.ok()) data.resize(old);
        return s;
      });
  }
}

}  // namespace

std::string_view TransformName(Transform t) {
  switch (t) {
    case Transform::kPlain:
      return "plain";
    case Transform::kPack:
      return "pack";
    case Transform::kDeltaPack:
      return "delta_pack";
  }
  return "unknown";
}

bool IsValidTransform(uint8_t t) { return t <= static_cast<uint8_t>(Transform::kDeltaPack); }

bool HasIntegerStream(const DataType& type) {
  const DataType& t = type.Unwrapped();
  return t.id() == TypeId::kLowCardinality || (IsVectorType(t.id()) && !t.is_float());
}

PartDictionary BuildPartDictionary(const ColumnLowCardinality& column) {
  const auto& dict = column.dictionary();
  std::vector<uint64_t> counts(dict.size(), 0);
  for (uint32_t i : column.indices()) ++counts[i];
  std::vector<uint32_t> used;
  for (uint32_t i = 0; i < dict.size(); ++i) {
    if (counts[i] != 0) used.push_back(i);
  }
  std::sort(used.begin(), used.end(), [&](uint32_t a, uint32_t b) {
    if (counts[a] != counts[b]) return counts[a] > counts[b];
    return dict[a] < dict[b];
  });
  PartDictionary out;
  out.remap.assign(dict.size(), UINT32_MAX);
  out.values.reserve(used.size());
  for (uint32_t i : used) {
    out.remap[i] = static_cast<uint32_t>(out.values.size());
    out.values.push_back(dict[i]);
  }
  return out;
}

void EncodeDictionary(const std::vector<std::string>& values, std::string* out) {
  PutVarint64(out, values.size());
  for (const auto& v : values) PutLengthPrefixed(out, v);
}

Status DecodeDictionary(std::string_view payload, std::vector<std::string>* values) {
  uint64_t n;
  if (!GetVarint64(&payload, &n) || n > payload.size()) {
    return Status::Corruption(
        fmt::format("LowCardinality dictionary is malformed: bad entry count with {} bytes left",
                    payload.size()));
  }
  values->clear();
  values->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!GetLengthPrefixed(&payload, &s)) {
      return Status::Corruption(
          fmt::format("LowCardinality dictionary is malformed: entry {} of {} is truncated", i, n));
    }
    values->emplace_back(s);
  }
  return CheckConsumed(payload, n);
}

// ---------------- GranuleEncoder ----------------

namespace {

// Fills keys with the stream of `count` values under t (kPack or kDeltaPack); *first gets the
// first value for kDeltaPack.
template <typename T>
void FillKeys(const T* v, size_t count, Transform t, std::vector<uint64_t>* keys, uint64_t* first) {
  keys->resize(count);
  uint64_t* k = keys->data();
  if (t == Transform::kPack) {
    for (size_t i = 0; i < count; ++i) k[i] = PackKey(v[i]);
    *first = 0;
    return;
  }
  *first = count == 0 ? 0 : Widen(v[0]);
  uint64_t prev = *first;
  for (size_t i = 0; i < count; ++i) {
    uint64_t cur = Widen(v[i]);
    k[i] = (cur - prev) ^ kSignBit;
    prev = cur;
  }
}

struct MiniblockPlan {
  int width;
  bool own_ref;
  uint64_t ref;
};

inline MiniblockPlan PlanMiniblock(const uint64_t* k, size_t cnt, uint64_t base) {
  uint64_t mn = k[0], mx = k[0];
  for (size_t i = 1; i < cnt; ++i) {
    mn = std::min(mn, k[i]);
    mx = std::max(mx, k[i]);
  }
  int w_shared = BitWidth(mx - base);
  int w_own = BitWidth(mx - mn);
  size_t cost_shared = PackedBytes(cnt, w_shared);
  size_t cost_own = VarintLength(mn - base) + PackedBytes(cnt, w_own);
  if (cost_own < cost_shared) return {w_own, true, mn};
  return {w_shared, false, base};
}

uint64_t MinKey(const std::vector<uint64_t>& keys) {
  uint64_t mn = ~uint64_t{0};
  for (uint64_t k : keys) mn = std::min(mn, k);
  return mn;
}

}  // namespace

size_t GranuleEncoder::EstimateStream(Transform t) {
  const size_t n = keys_.size();
  if (n == 0) return 0;
  uint64_t base = MinKey(keys_);
  size_t bytes = VarintLength(base) + (t == Transform::kDeltaPack ? 5 : 0);
  for (size_t i = 0; i < n; i += kMiniblockRows) {
    size_t cnt = std::min(kMiniblockRows, n - i);
    MiniblockPlan p = PlanMiniblock(keys_.data() + i, cnt, base);
    bytes += 1 + PackedBytes(cnt, p.width) + (p.own_ref ? VarintLength(p.ref - base) : 0);
  }
  return bytes;
}

Transform GranuleEncoder::ChooseTransform(const Column& column, size_t granularity,
                                          const PartDictionary* dict) {
  const Column* col = &column;
  if (col->type()->is_nullable()) col = &static_cast<const ColumnNullable&>(*col).nested();
  if (!HasIntegerStream(*col->type()) || col->size() == 0 || granularity == 0) {
    return Transform::kPlain;
  }
  const size_t rows = col->size();
  const size_t granules = (rows + granularity - 1) / granularity;
  const size_t samples = std::min<size_t>(granules, 16);
  size_t cost[3] = {0, 0, 0};
  for (size_t s = 0; s < samples; ++s) {
    size_t g = s * granules / samples;
    size_t begin = g * granularity, count = std::min(granularity, rows - begin);
    for (Transform t : {Transform::kPack, Transform::kDeltaPack}) {
      uint64_t first;
      if (col->type()->id() == TypeId::kLowCardinality) {
        const auto& lc = static_cast<const ColumnLowCardinality&>(*col);
        indices_.resize(count);
        for (size_t i = 0; i < count; ++i) indices_[i] = dict->remap[lc.indices()[begin + i]];
        FillKeys(indices_.data(), count, t, &keys_, &first);
        cost[0] += count * 4;
      } else {
        types::DispatchVector(col->type()->id(), [&](auto* tag) {
          using T = std::remove_pointer_t<decltype(tag)>;
          const T* v = static_cast<const ColumnVector<T>&>(*col).data().data() + begin;
          FillKeys(v, count, t, &keys_, &first);
          cost[0] += count * sizeof(T);
        });
      }
      cost[static_cast<int>(t)] += EstimateStream(t);
    }
  }
  cost[0] /= 2;  // counted once per transform tried
  if (cost[2] < cost[1] && cost[2] < cost[0]) return Transform::kDeltaPack;
  if (cost[0] < cost[1]) return Transform::kPlain;
  return Transform::kPack;
}

void GranuleEncoder::EncodeStream(Transform t, std::string* out) {
  // keys_ holds the stream; the caller wrote kDeltaPack's first value already.
  const size_t n = keys_.size();
  const uint64_t base = n == 0 ? 0 : MinKey(keys_);
  size_t pos = out->size();
  size_t bound = 10 + ((n + kMiniblockRows - 1) / kMiniblockRows) * 11 + n * 8 + 16;
  out->resize(pos + bound);
  char* const start = out->data() + pos;
  char* p = EncodeVarint(start, base);
  for (size_t i = 0; i < n; i += kMiniblockRows) {
    size_t cnt = std::min(kMiniblockRows, n - i);
    MiniblockPlan plan = PlanMiniblock(keys_.data() + i, cnt, base);
    *p++ = static_cast<char>(plan.width | (plan.own_ref ? kOwnRefFlag : 0));
    if (plan.own_ref) p = EncodeVarint(p, plan.ref - base);
    p = PackBits(keys_.data() + i, cnt, plan.width, plan.ref, p);
  }
  out->resize(pos + (p - start));
}

template <typename T>
void GranuleEncoder::EncodeVector(const T* v, size_t count, Transform t, std::string* out) {
  if (t == Transform::kPlain || std::is_floating_point_v<T>) {
    out->append(reinterpret_cast<const char*>(v), count * sizeof(T));
    return;
  }
  uint64_t first;
  FillKeys(v, count, t, &keys_, &first);
  if (t == Transform::kDeltaPack) PutVarint64(out, first);
  EncodeStream(t, out);
}

void GranuleEncoder::Encode(const Column& column, size_t begin, size_t count, Transform t,
                            const PartDictionary* dict, std::string* out) {
  switch (column.type()->id()) {
    case TypeId::kNullable: {
      const auto& n = static_cast<const ColumnNullable&>(column);
      const uint8_t* nulls = n.null_map().data() + begin;
      size_t pos = out->size();
      out->resize(pos + (count + 7) / 8, '\0');
      char* bits = out->data() + pos;
      for (size_t i = 0; i < count; ++i) {
        bits[i >> 3] = static_cast<char>(bits[i >> 3] | ((nulls[i] != 0) << (i & 7)));
      }
      Encode(n.nested(), begin, count, t, dict, out);
      return;
    }
    case TypeId::kString: {
      const auto& s = static_cast<const ColumnString&>(column);
      for (size_t i = begin; i < begin + count; ++i) PutVarint64(out, s.View(i).size());
      if (count == 0) return;
      // The rows' characters are contiguous: copy them at once.
      const char* first = s.View(begin).data();
      std::string_view last = s.View(begin + count - 1);
      out->append(first, last.data() + last.size() - first);
      return;
    }
    case TypeId::kFixedString: {
      const auto& s = static_cast<const ColumnFixedString&>(column);
      size_t n = column.type()->fixed_size();
      if (count != 0) out->append(s.View(begin).data(), count * n);
      return;
    }
    case TypeId::kLowCardinality: {
      const auto& lc = static_cast<const ColumnLowCardinality&>(column);
      indices_.resize(count);
      const uint32_t* src = lc.indices().data() + begin;
      for (size_t i = 0; i < count; ++i) indices_[i] = dict->remap[src[i]];
      EncodeVector(indices_.data(), count, t, out);
      return;
    }
    default:
      types::DispatchVector(column.type()->id(), [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        EncodeVector(static_cast<const ColumnVector<T>&>(column).data().data() + begin, count, t,
                     out);
      });
  }
}

// ---------------- decoding ----------------

bool SeedDictionary(const std::vector<std::string>& dict, ColumnLowCardinality* column) {
  if (!column->dictionary().empty()) return false;
  for (const auto& v : dict) column->Intern(v);
  return column->dictionary().size() == dict.size();  // distinct values: index i is dict[i]
}

Status DecodeGranule(std::string_view payload, size_t rows, Transform t,
                     const std::vector<std::string>* dict, bool dict_in_column, Column* column) {
  const DataType& type = *column->type();
  if (!type.is_nullable()) {
    TH_RETURN_IF_ERROR(DecodeInto(&payload, rows, t, dict, dict_in_column, column));
    return CheckConsumed(payload, rows);
  }
  // Nullable: expand the bitmap into ColumnNullable's serialized form (null-map bytes followed
  // by the nested column's Column::Serialize bytes), then Deserialize.
  size_t bitmap = (rows + 7) / 8;
  if (payload.size() < bitmap) return Malformed("null bitmap", bitmap, payload.size());
  std::string serialized(rows, '\0');
  for (size_t i = 0; i < rows; ++i) {
    serialized[i] = static_cast<char>((static_cast<uint8_t>(payload[i >> 3]) >> (i & 7)) & 1);
  }
  payload.remove_prefix(bitmap);
  const DataType& nested = *type.nested();
  if (IsVectorType(nested.id())) {
    TH_RETURN_IF_ERROR(types::DispatchVector(nested.id(), [&](auto* tag) -> Status {
      using T = std::remove_pointer_t<decltype(tag)>;
      std::vector<T> values(rows);
      TH_RETURN_IF_ERROR(DecodeVector<T>(&payload, rows,
                                         std::is_floating_point_v<T> ? Transform::kPlain : t,
                                         values.data()));
      serialized.append(reinterpret_cast<const char*>(values.data()), rows * sizeof(T));
      return Status::OK();
    }));
    TH_RETURN_IF_ERROR(CheckConsumed(payload, rows));
  } else {
    serialized.append(payload);  // String / FixedString: already in serialized form
  }
  std::string_view in(serialized);
  size_t old = column->size();
  Status s = column->Deserialize(&in, rows);
  if (!s.ok()) {
    column->Truncate(old);
    return Status::Corruption("granule payload is malformed: " + s.message());
  }
  return CheckConsumed(in, rows);
}

}  // namespace trackhouse::engine
