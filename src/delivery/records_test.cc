// Round trips and damage detection of the spool, journal and dead-letter formats.
#include "delivery/records.h"

#include <gtest/gtest.h>

#include "delivery/deadletter.h"
#include "delivery/schema_cache.h"
#include "env/mem_env.h"
#include "types/column.h"
#include "types/data_type.h"

namespace trackhouse::delivery {
namespace {

types::Block TwoColumns(std::vector<uint32_t> ids, std::vector<std::string> names) {
  auto id_type = types::ParseDataType("UInt32").value();
  auto name_type = types::ParseDataType("String").value();
  auto ids_col = types::MakeColumn(id_type);
  auto names_col = types::MakeColumn(name_type);
  for (auto v : ids) ids_col->AppendValue(types::Value::UInt(v));
  for (auto& v : names) names_col->AppendValue(types::Value::String(v));
  types::Block b;
  b.Add("id", id_type, std::move(ids_col));
  b.Add("name", name_type, std::move(names_col));
  return b;
}

TEST(SpoolRecordTest, RoundTripsSlicesAndKey) {
  SpoolRecord r;
  r.database = "default";
  r.table = "events";
  r.accepted_micros = 1700000000123456;
  r.key = storage::IdempotencyRecord{"k1", "{\"ok\":1}", 1700000000000000};
  r.slices.push_back({"202401", TwoColumns({1, 2}, {"a", "b"})});
  r.slices.push_back({"202402", TwoColumns({3}, {"c"})});
  std::string payload;
  EncodeSpoolRecord(r, &payload);
  auto d = DecodeSpoolRecord(payload, "spool LSN 1");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->database, "default");
  EXPECT_EQ(d->table, "events");
  EXPECT_EQ(d->accepted_micros, r.accepted_micros);
  ASSERT_TRUE(d->key.has_value());
  EXPECT_EQ(d->key->key, "k1");
  EXPECT_EQ(d->key->answer, "{\"ok\":1}");
  ASSERT_EQ(d->slices.size(), 2u);
  EXPECT_EQ(d->slices[0].partition, "202401");
  EXPECT_EQ(d->slices[0].block.rows(), 2u);
  EXPECT_EQ(d->slices[1].block.at(1).column->GetValue(0).ToString(), "'c'");
  EXPECT_EQ(BlockLayout(d->slices[0].block), "id UInt32, name String");
  // Every truncation is Corruption, never a crash or a shorter record.
  for (size_t n = 0; n < payload.size(); ++n) {
    auto t = DecodeSpoolRecord(std::string_view(payload).substr(0, n), "spool LSN 1");
    EXPECT_FALSE(t.ok()) << n;
    if (!t.ok()) {
      EXPECT_NE(t.status().message().find("spool LSN 1"), std::string::npos);
    }
  }
}

TEST(JournalRecordTest, RoundTripsBatchDoneAndCheckpoint) {
  BatchRecord b;
  b.id = 42;
  b.database = "default";
  b.table = "events";
  b.partition = "202401";
  b.layout = "id UInt32";
  b.mechanism = Mechanism::kBlockNumber;
  b.block_mark = -1;
  b.query_id = "trackhouse-n-42";
  b.lsns = {3, 4, 5, 9, 100, 101};
  b.rows = 77;
  JournalRecord r;
  r.kind = JournalRecord::kBatch;
  r.batch = b;
  std::string payload;
  EncodeJournalRecord(r, &payload);
  auto d = DecodeJournalRecord(payload, "journal");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->batch.lsns, b.lsns);
  EXPECT_EQ(d->batch.block_mark, -1);
  EXPECT_EQ(d->batch.query_id, b.query_id);
  EXPECT_EQ(d->batch.rows, 77u);

  JournalRecord cp;
  cp.kind = JournalRecord::kCheckpoint;
  cp.spool_handled_upto = 2;
  cp.next_batch_id = 43;
  cp.batches.emplace_back(b, BatchOutcome::kDelivered);
  b.id = 43;
  cp.batches.emplace_back(b, std::nullopt);
  payload.clear();
  EncodeJournalRecord(cp, &payload);
  d = DecodeJournalRecord(payload, "journal");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->spool_handled_upto, 2u);
  EXPECT_EQ(d->next_batch_id, 43u);
  ASSERT_EQ(d->batches.size(), 2u);
  EXPECT_EQ(d->batches[0].second, BatchOutcome::kDelivered);
  EXPECT_FALSE(d->batches[1].second.has_value());
  EXPECT_EQ(d->batches[1].first.lsns, b.lsns);
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(DecodeJournalRecord(std::string_view(payload).substr(0, n), "j").ok()) << n;
  }
}

TEST(DeadLetterTest, FileRoundTripsAndEveryFlippedByteIsDetected) {
  auto mem = env::NewMemEnv();
  env::Env& env = *mem;
  DeadLetter l;
  l.database = "default";
  l.table = "events";
  l.partition = "202401";
  l.server_code = 53;
  l.server_message = "Type mismatch";
  l.time_micros = 5;
  l.batch_id = 7;
  l.lsns = {10, 11};
  l.block = TwoColumns({1, 2, 3}, {"x", "y", "z"});
  l.rows = 3;
  auto path = WriteDeadLetter(&env, "/d/deadletter", l);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, "/d/deadletter/" + DeadLetterFileName(l));
  auto list = ListDeadLetters(&env, "/d/deadletter");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].letter.rows, 3u);
  EXPECT_EQ((*list)[0].letter.server_code, 53);
  EXPECT_EQ((*list)[0].letter.lsns, l.lsns);
  std::string data = EncodeDeadLetter(l);
  for (size_t i = 0; i < data.size(); ++i) {
    std::string bad = data;
    bad[i] ^= 0x20;
    EXPECT_FALSE(DecodeDeadLetter(bad, "f").ok()) << i;
  }
}

TEST(SchemaCacheTest, DefinitionsRoundTripAndDamageIsDetected) {
  RemoteDefinition def;
  def.table.schema.database = "default";
  def.table.schema.name = "events_buffer";
  def.table.schema.engine = "Buffer";
  def.table.schema.columns.push_back(
      {"id", types::ParseDataType("UInt64").value(), storage::DefaultKind::kNone, ""});
  def.table.schema.columns.push_back(
      {"at", types::ParseDataType("DateTime").value(), storage::DefaultKind::kDefault, "now()"});
  def.table.engine.name = "Buffer";
  def.table.engine.buffer = true;
  def.table.engine.buffer_table = "events";
  def.dest.emplace();
  def.dest->schema.database = "default";
  def.dest->schema.name = "events";
  def.dest->schema.columns = def.table.schema.columns;
  def.dest->engine.name = "MergeTree";
  def.dest->engine.partition_key = "toYYYYMM(at)";
  def.shard_weights = {1, 2};
  std::string entry;
  EncodeRemoteDefinition(def, &entry);
  auto d = DecodeRemoteDefinition(entry, "cache");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->table.schema.columns[1].default_expr, "now()");
  EXPECT_EQ(d->table.schema.columns[1].type->name(), "DateTime");
  EXPECT_TRUE(d->table.engine.buffer);
  ASSERT_TRUE(d->dest.has_value());
  EXPECT_EQ(d->dest->engine.partition_key, "toYYYYMM(at)");
  EXPECT_EQ(d->shard_weights, (std::vector<uint64_t>{1, 2}));
  std::string file = EncodeSchemaFile({entry, entry});
  auto entries = DecodeSchemaFile(file, "schemas");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 2u);
  for (size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] ^= 0x01;
    EXPECT_FALSE(DecodeSchemaFile(bad, "schemas").ok()) << i;
  }
}

}  // namespace
}  // namespace trackhouse::delivery
