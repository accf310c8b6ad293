// uniq and uniqExact.
//
// uniq is ClickHouse's adaptive sampling set (the BJKST scheme of its UniquesHashSet): each
// value is reduced to a 64-bit key (an integer's own value, a float's bits, a string's XXH3
// hash), the key to a 32-bit hash (intHash64, truncated), and the hashes are kept in an
// open-addressing table. While at most 65536 distinct hashes have been seen the count is exact
// (up to 32-bit hash collisions); beyond that only hashes divisible by 2^k are kept, k growing
// each time the table would exceed 65536 entries, and the count is scaled back by 2^k and
// corrected for collisions. The relative error is then about 1/sqrt(65536 / 2) ≈ 0.5% (one
// standard deviation); the tests hold it within 2% at one million distinct values. For
// integer, date and float arguments the result equals ClickHouse's exactly (same key, hash and
// correction); for strings ClickHouse hashes with CityHash64, so counts above 65536 differ
// within the error bound.
//
// uniqExact keeps every distinct value in a flat open-addressing set: integers, dates and
// floats by value (32- or 64-bit keys; as in ClickHouse -0.0 equals 0.0 and every NaN counts as
// a distinct value), strings and multi-argument tuples by a 128-bit XXH3 hash of their bytes.
#include <fmt/format.h>
#include <nmmintrin.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "query/aggregate_internal.h"

namespace trackhouse::query::agg {
namespace {

using types::Column;
using types::DataType;
using types::TypeId;

// ---------------- uniq: the adaptive sampling set ----------------

class UniquesHashSet {
 public:
  static constexpr uint32_t kMaxSizeDegree = 17;
  static constexpr uint32_t kMaxSize = 1u << (kMaxSizeDegree - 1);  // 65536
  static constexpr uint32_t kBitsForSkip = 32 - kMaxSizeDegree;     // low bits used to thin
  static constexpr uint32_t kInitialSizeDegree = 4;

  UniquesHashSet() = default;
  UniquesHashSet(const UniquesHashSet&) = delete;
  UniquesHashSet& operator=(const UniquesHashSet&) = delete;
  ~UniquesHashSet() { std::free(buf_); }

  void InsertKey(uint64_t key) { InsertHash(static_cast<uint32_t>(IntHash64(key))); }

  void InsertHash(uint32_t h) {
    if (!Good(h)) return;
    InsertImpl(h);
    ShrinkIfNeeded();
  }

  void Merge(const UniquesHashSet& rhs) {
    if (rhs.skip_degree_ > skip_degree_) {
      skip_degree_ = rhs.skip_degree_;
      Rehash();
    }
    if (!has_zero_ && rhs.has_zero_) {
      has_zero_ = true;
      ++size_;
      ShrinkIfNeeded();
    }
    for (size_t i = 0; i < rhs.capacity(); ++i) {
      if (rhs.buf_[i] && Good(rhs.buf_[i])) {
        InsertImpl(rhs.buf_[i]);
        ShrinkIfNeeded();
      }
    }
  }

  uint64_t Estimate() const {
    if (skip_degree_ == 0) return size_;
    uint64_t res = static_cast<uint64_t>(size_) << skip_degree_;
    // A pseudo-random remainder, so results are not all multiples of 2^skip_degree. (ClickHouse
    // takes it from intHashCRC32, which is intHash64 in builds without SSE4.2 such as Debian's
    // 18.16, the server trackhouse is compared with.)
    res += IntHash64(size_) & ((1ULL << skip_degree_) - 1);
    // Correct for collisions of distinct values in 32-bit hashes.
    double p32 = 4294967296.0;
    return static_cast<uint64_t>(
        std::round(p32 * (std::log(p32) - std::log(p32 - static_cast<double>(res)))));
  }

  size_t HeapBytes() const { return buf_ ? capacity() * sizeof(uint32_t) : 0; }

 private:
  size_t capacity() const { return buf_ ? size_t{1} << size_degree_ : 0; }
  size_t mask() const { return capacity() - 1; }
  size_t Place(uint32_t h) const { return (h >> kBitsForSkip) & mask(); }
  bool Good(uint32_t h) const { return h == ((h >> skip_degree_) << skip_degree_); }

  void InsertImpl(uint32_t h) {
    if (h == 0) {
      size_ += !has_zero_;
      has_zero_ = true;
      return;
    }
    if (!buf_) Allocate(kInitialSizeDegree);
    size_t p = Place(h);
    while (buf_[p] && buf_[p] != h) p = (p + 1) & mask();
    if (buf_[p] == h) return;
    buf_[p] = h;
    ++size_;
  }

  // Puts a hash known to be absent into its first free cell.
  void Reinsert(uint32_t h) {
    size_t p = Place(h);
    while (buf_[p]) p = (p + 1) & mask();
    buf_[p] = h;
  }

  void Allocate(uint32_t degree) {
    buf_ = static_cast<uint32_t*>(std::calloc(size_t{1} << degree, sizeof(uint32_t)));
    if (!buf_) throw std::bad_alloc();
    size_degree_ = degree;
  }

  void ShrinkIfNeeded() {
    if (size_ <= capacity() / 2) return;
    if (size_ > kMaxSize) {
      while (size_ > kMaxSize) {
        ++skip_degree_;
        Rehash();
      }
    } else {
      Grow();
    }
  }

  // Drops the hashes that are no longer Good() and closes the gaps they leave.
  void Rehash() {
    for (size_t i = 0; i < capacity(); ++i) {
      if (buf_[i] && !Good(buf_[i])) {
        buf_[i] = 0;
        --size_;
      }
    }
    for (size_t i = 0; i < capacity(); ++i) {
      if (buf_[i] && i != Place(buf_[i])) {
        uint32_t h = buf_[i];
        buf_[i] = 0;
        Reinsert(h);
      }
    }
  }

  void Grow() {
    uint32_t* old = buf_;
    size_t old_capacity = capacity();
    Allocate(old ? size_degree_ + 1 : kInitialSizeDegree);
    for (size_t i = 0; i < old_capacity; ++i) {
      if (old[i]) Reinsert(old[i]);
    }
    std::free(old);
  }

  uint32_t* buf_ = nullptr;  // allocated on the first nonzero hash
  uint32_t size_ = 0;        // hashes held, counting a zero hash
  uint8_t size_degree_ = 0;
  uint8_t skip_degree_ = 0;  // only hashes divisible by 2^skip_degree_ are kept
  bool has_zero_ = false;
};

// ---------------- uniqExact: flat sets ----------------

struct Key128 {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const Key128&) const = default;
};

inline uint64_t HashKey(uint32_t k) { return _mm_crc32_u64(~0ULL, k); }
inline uint64_t HashKey(uint64_t k) { return _mm_crc32_u64(~0ULL, k); }
inline uint64_t HashKey(const Key128& k) { return k.low; }  // already a hash
inline bool IsZero(uint32_t k) { return k == 0; }
inline bool IsZero(uint64_t k) { return k == 0; }
inline bool IsZero(const Key128& k) { return k.low == 0 && k.high == 0; }

// Open addressing with linear probing; the zero key is kept aside; grows at half full.
template <typename K>
class FlatSet {
 public:
  FlatSet() = default;
  FlatSet(const FlatSet&) = delete;
  FlatSet& operator=(const FlatSet&) = delete;
  ~FlatSet() { std::free(cells_); }

  void Insert(K key) { Insert(key, HashKey(key)); }
  // `hash` is HashKey(key).
  void Insert(K key, uint64_t hash) {
    if (IsZero(key)) {
      has_zero_ = true;
      return;
    }
    if (size_ * 2 >= capacity_) Grow();
    size_t m = capacity_ - 1;
    size_t p = hash & m;
    while (!IsZero(cells_[p])) {
      if (cells_[p] == key) return;
      p = (p + 1) & m;
    }
    cells_[p] = key;
    ++size_;
  }
  void Merge(const FlatSet& rhs) {
    has_zero_ |= rhs.has_zero_;
    for (size_t i = 0; i < rhs.capacity_; ++i) {
      if (!IsZero(rhs.cells_[i])) Insert(rhs.cells_[i]);
    }
  }
  // Starts loading the cell where a key with `hash` would go.
  void Prefetch(uint64_t hash) const {
    if (cells_) __builtin_prefetch(&cells_[hash & (capacity_ - 1)]);
  }
  uint64_t size() const { return size_ + has_zero_; }
  size_t HeapBytes() const { return capacity_ * sizeof(K); }

 private:
  void Grow() {
    size_t new_capacity = capacity_ ? capacity_ * 2 : 16;
    K* cells = static_cast<K*>(std::calloc(new_capacity, sizeof(K)));
    if (!cells) throw std::bad_alloc();
    size_t m = new_capacity - 1;
    for (size_t i = 0; i < capacity_; ++i) {
      if (IsZero(cells_[i])) continue;
      size_t p = HashKey(cells_[i]) & m;
      while (!IsZero(cells[p])) p = (p + 1) & m;
      cells[p] = cells_[i];
    }
    std::free(cells_);
    cells_ = cells;
    capacity_ = new_capacity;
  }

  K* cells_ = nullptr;
  size_t capacity_ = 0;
  size_t size_ = 0;  // nonzero keys held
  bool has_zero_ = false;
};

template <typename K>
struct ExactState {
  FlatSet<K> set;
  uint64_t nans = 0;  // every NaN is distinct, as in ClickHouse
};

// ---------------- keys ----------------

// uniq's 64-bit key of a value: integers sign- or zero-extended, floats' bits, strings hashed.
template <typename T>
uint64_t UniqKey(T v) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return XXH3_64bits(v.data(), v.size());
  } else if constexpr (std::is_same_v<T, float>) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    return bits;
  } else if constexpr (std::is_same_v<T, double>) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    return bits;
  } else {
    return static_cast<uint64_t>(v);
  }
}

// uniqExact's key type for values of T.
template <typename T>
using ExactKey = std::conditional_t<std::is_same_v<T, std::string_view>, Key128,
                                    std::conditional_t<(sizeof(T) <= 4), uint32_t, uint64_t>>;

// Returns false for NaN (counted apart); -0.0 becomes 0.0.
template <typename T>
bool ExactKeyOf(T v, ExactKey<T>* key) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    XXH128_hash_t h = XXH3_128bits(v.data(), v.size());
    *key = Key128{h.low64, h.high64};
  } else if constexpr (std::is_floating_point_v<T>) {
    if (v != v) return false;
    if (v == 0) v = 0;
    std::memcpy(key, &v, sizeof(T));
  } else {
    *key = static_cast<ExactKey<T>>(static_cast<std::make_unsigned_t<T>>(v));
  }
  return true;
}

template <typename R>
class UniqFunction final : public RowwiseAggregate<UniqFunction<R>, UniquesHashSet> {
 public:
  UniqFunction() : RowwiseAggregate<UniqFunction<R>, UniquesHashSet>(UInt64Type()) {}
  static types::DataTypePtr UInt64Type() { return DataType::Get(TypeId::kUInt64); }

  R MakeReaders(const Column* const* args) const { return R(*args[0]); }
  void AddRow(UniquesHashSet& s, const R& r, size_t i) const { s.InsertKey(UniqKey(r[i])); }
  void MergeState(UniquesHashSet& s, const UniquesHashSet& rhs) const { s.Merge(rhs); }
  void InsertState(const UniquesHashSet& s, Column* to) const {
    AppendNumber<uint64_t>(to, s.Estimate());
  }
  size_t HeapBytes(const char* place) const override { return this->St(place).HeapBytes(); }
};

template <typename R>
class UniqExactFunction final
    : public RowwiseAggregate<UniqExactFunction<R>, ExactState<ExactKey<typename R::ValueType>>> {
  using T = typename R::ValueType;
  using State = ExactState<ExactKey<T>>;

 public:
  UniqExactFunction()
      : RowwiseAggregate<UniqExactFunction<R>, State>(DataType::Get(TypeId::kUInt64)) {}

  // The batch paths hash a run of rows and prefetch their cells before inserting them, so the
  // cache misses of a large set overlap instead of queueing one behind the other.
  Status AddBatch(size_t rows, char* const* places, size_t offset, const Column* const* args,
                  const uint8_t* mask) const override {
    AddPrefetched(rows, args, mask,
                  [&](size_t i) -> State& { return this->St(places[i] + offset); });
    return Status::OK();
  }
  Status AddBatchSinglePlace(size_t rows, char* place, const Column* const* args,
                             const uint8_t* mask) const override {
    State& s = this->St(place);
    AddPrefetched(rows, args, mask, [&](size_t) -> State& { return s; });
    return Status::OK();
  }

  R MakeReaders(const Column* const* args) const { return R(*args[0]); }
  void AddRow(State& s, const R& r, size_t i) const {
    ExactKey<T> key;
    if (ExactKeyOf(r[i], &key)) {
      s.set.Insert(key);
    } else {
      ++s.nans;
    }
  }
  void MergeState(State& s, const State& rhs) const {
    s.set.Merge(rhs.set);
    s.nans += rhs.nans;
  }
  void InsertState(const State& s, Column* to) const {
    AppendNumber<uint64_t>(to, s.set.size() + s.nans);
  }
  size_t HeapBytes(const char* place) const override { return this->St(place).set.HeapBytes(); }

 private:
  static constexpr size_t kRun = 16;

  template <typename StateOf>
  void AddPrefetched(size_t rows, const Column* const* args, const uint8_t* mask,
                     StateOf&& state_of) const {
    R r(*args[0]);
    ExactKey<T> keys[kRun];
    uint64_t hashes[kRun];
    uint8_t valid[kRun];
    for (size_t start = 0; start < rows; start += kRun) {
      size_t n = std::min(kRun, rows - start);
      for (size_t j = 0; j < n; ++j) {
        size_t i = start + j;
        valid[j] = (!mask || mask[i]) && ExactKeyOf(r[i], &keys[j]);
        if (valid[j]) {
          hashes[j] = HashKey(keys[j]);
          state_of(i).set.Prefetch(hashes[j]);
        } else if (!mask || mask[i]) {
          ++state_of(i).nans;
        }
      }
      for (size_t j = 0; j < n; ++j) {
        if (valid[j]) state_of(start + j).set.Insert(keys[j], hashes[j]);
      }
    }
  }
};

// ---------------- several arguments: one hash per row of the tuple ----------------

// Hashes row i of one argument column with `seed`.
using RowHasher = uint64_t (*)(const Column& c, size_t i, uint64_t seed);

template <typename R>
uint64_t HashRow(const Column& c, size_t i, uint64_t seed) {
  auto v = R(c)[i];
  if constexpr (kIsStringReader<R>) {
    return XXH3_64bits_withSeed(v.data(), v.size(), seed);
  } else {
    // NaN and -0.0 as uniqExact treats them for one argument would need more than a hash;
    // tuples hash the value's bytes.
    return XXH3_64bits_withSeed(&v, sizeof(v), seed);
  }
}

struct TupleReaders {
  const Column* const* args;
  const std::vector<RowHasher>* hashers;
  // 128 bits: two independent 64-bit chains over the tuple's values.
  Key128 Hash(size_t i) const {
    Key128 k{0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL};
    for (size_t a = 0; a < hashers->size(); ++a) {
      k.low = (*hashers)[a](*args[a], i, k.low);
      k.high = (*hashers)[a](*args[a], i, k.high ^ 0x165667b19e3779f9ULL);
    }
    return k;
  }
};

template <bool kExact>
class UniqTupleFunction final
    : public RowwiseAggregate<UniqTupleFunction<kExact>,
                              std::conditional_t<kExact, ExactState<Key128>, UniquesHashSet>> {
  using State = std::conditional_t<kExact, ExactState<Key128>, UniquesHashSet>;

 public:
  explicit UniqTupleFunction(std::vector<RowHasher> hashers)
      : RowwiseAggregate<UniqTupleFunction<kExact>, State>(DataType::Get(TypeId::kUInt64)),
        hashers_(std::move(hashers)) {}

  TupleReaders MakeReaders(const Column* const* args) const { return {args, &hashers_}; }
  void AddRow(State& s, const TupleReaders& r, size_t i) const {
    Key128 k = r.Hash(i);
    if constexpr (kExact) {
      s.set.Insert(k);
    } else {
      s.InsertHash(static_cast<uint32_t>(k.low));
    }
  }
  void MergeState(State& s, const State& rhs) const {
    if constexpr (kExact) {
      s.set.Merge(rhs.set);
    } else {
      s.Merge(rhs);
    }
  }
  void InsertState(const State& s, Column* to) const {
    if constexpr (kExact) {
      AppendNumber<uint64_t>(to, s.set.size());
    } else {
      AppendNumber<uint64_t>(to, s.Estimate());
    }
  }
  size_t HeapBytes(const char* place) const override {
    if constexpr (kExact) {
      return this->St(place).set.HeapBytes();
    } else {
      return this->St(place).HeapBytes();
    }
  }

 private:
  std::vector<RowHasher> hashers_;
};

}  // namespace

Result<AggregateFunctionPtr> MakeUniq(BaseFunction fn, const Params& params, const ArgTypes& args) {
  std::string_view name = fn == BaseFunction::kUniq ? "uniq" : "uniqExact";
  TH_RETURN_IF_ERROR(RequireNoParameters(name, params));
  if (args.empty()) {
    return Status::InvalidArgument(
        fmt::format("Incorrect number of arguments for aggregate function {}", name),
        ch::kNumberOfArgumentsDoesntMatch);
  }
  if (args.size() == 1) {
    return WithReader(*args[0], name, [&](auto tag) -> Result<AggregateFunctionPtr> {
      using R = typename decltype(tag)::type;
      if (fn == BaseFunction::kUniq)
        return AggregateFunctionPtr(std::make_shared<UniqFunction<R>>());
      return AggregateFunctionPtr(std::make_shared<UniqExactFunction<R>>());
    });
  }
  std::vector<RowHasher> hashers;
  for (const auto& arg : args) {
    RowHasher hasher = nullptr;
    TH_RETURN_IF_ERROR(WithReader(*arg, name, [&](auto tag) -> Result<AggregateFunctionPtr> {
                         hasher = &HashRow<typename decltype(tag)::type>;
                         return AggregateFunctionPtr();
                       }).status());
    hashers.push_back(hasher);
  }
  if (fn == BaseFunction::kUniq) {
    return AggregateFunctionPtr(std::make_shared<UniqTupleFunction<false>>(std::move(hashers)));
  }
  return AggregateFunctionPtr(std::make_shared<UniqTupleFunction<true>>(std::move(hashers)));
}

}  // namespace trackhouse::query::agg
