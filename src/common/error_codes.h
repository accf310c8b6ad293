// ClickHouse error codes that trackhouse reports, with their names. They travel inside Status
// (Status::clickhouse_code()) and appear in error bodies as `Code: N. DB::Exception: ... (NAME)`.
#pragma once

#include <string_view>

namespace trackhouse::ch {

inline constexpr int kUnsupportedMethod = 1;
inline constexpr int kCannotParseInputAssertionFailed = 27;
inline constexpr int kCannotParseText = 6;
inline constexpr int kNumberOfColumnsDoesntMatch = 7;
inline constexpr int kThereIsNoColumn = 16;
inline constexpr int kNotFoundColumnInBlock = 10;
inline constexpr int kIncorrectData = 117;
inline constexpr int kCannotParseDate = 38;
inline constexpr int kCannotParseDateTime = 41;
inline constexpr int kCannotParseNumber = 72;
inline constexpr int kUnknownIdentifier = 47;
inline constexpr int kUnknownType = 50;
inline constexpr int kUnknownStorage = 56;
inline constexpr int kTableAlreadyExists = 57;
inline constexpr int kUnknownTable = 60;
inline constexpr int kSyntaxError = 62;
inline constexpr int kUnknownAggregateFunction = 63;
inline constexpr int kCannotReadAllData = 33;
inline constexpr int kArgumentOutOfBound = 69;
inline constexpr int kCannotConvertType = 70;
inline constexpr int kUnknownSetting = 115;
inline constexpr int kUnknownFunction = 46;
inline constexpr int kIllegalTypeOfArgument = 43;
inline constexpr int kNumberOfArgumentsDoesntMatch = 42;
inline constexpr int kBadArguments = 36;
inline constexpr int kCorruptedData = 246;
inline constexpr int kChecksumDoesntMatch = 40;
inline constexpr int kCannotWriteToFile = 75;  // CANNOT_WRITE_TO_FILE_DESCRIPTOR
inline constexpr int kCannotFsync = 95;
inline constexpr int kCannotOpenFile = 76;
inline constexpr int kFileDoesntExist = 107;
inline constexpr int kDatabaseAlreadyExists = 82;
inline constexpr int kUnknownDatabase = 81;
inline constexpr int kNoSuchColumnInTable = 16;
inline constexpr int kIllegalColumn = 44;
inline constexpr int kDuplicateColumn = 15;
inline constexpr int kTimeoutExceeded = 159;
inline constexpr int kTooManyRows = 158;
inline constexpr int kMemoryLimitExceeded = 241;
inline constexpr int kQueryWasCancelled = 394;
inline constexpr int kNotImplemented = 48;
inline constexpr int kLogicalError = 49;
inline constexpr int kTooManyParts = 252;
inline constexpr int kUnknownFormat = 73;
inline constexpr int kTableIsReadOnly = 242;
inline constexpr int kReadonly = 164;
inline constexpr int kNotEnoughSpace = 243;
inline constexpr int kTooLargeStringSize = 131;
inline constexpr int kIncorrectQuery = 80;
inline constexpr int kEmptyQuery = 67;
inline constexpr int kUnknownUser = 192;
inline constexpr int kAuthenticationFailed = 516;
inline constexpr int kCannotParseEscapeSequence = 25;
inline constexpr int kIncorrectNumberOfColumns = 7;
inline constexpr int kValueIsOutOfRangeOfDataType = 321;
inline constexpr int kTypeMismatch = 53;
inline constexpr int kServerOverloaded = 202;  // TOO_MANY_SIMULTANEOUS_QUERIES
inline constexpr int kAborted = 236;
inline constexpr int kIllegalFinal = 181;
inline constexpr int kIllegalAggregation = 184;
inline constexpr int kNotAnAggregate = 215;
inline constexpr int kTooManyRowsOrBytes = 396;
inline constexpr int kTooLargeArraySize = 128;
inline constexpr int kSetSizeLimitExceeded = 191;
inline constexpr int kCyclicAliases = 52;
inline constexpr int kMultipleExpressionsForAlias = 179;
inline constexpr int kTooDeepSubqueries = 167;
inline constexpr int kEmptyListOfColumnsQueried = 51;
inline constexpr int kUnknownQueryParameter = 456;
inline constexpr int kBadQueryParameter = 457;
inline constexpr int kCannotGetCreateTableQuery = 390;
inline constexpr int kCannotParseQuotedString = 26;
inline constexpr int kIncorrectResultOfScalarSubquery = 125;
inline constexpr int kInvalidWithFillExpression = 475;
inline constexpr int kUnionAllResultStructuresMismatch = 258;

// HTTP interface: settings, sessions, compression, authentication.
inline constexpr int kUnknownOverflowMode = 145;
inline constexpr int kQuotaExceeded = 201;
inline constexpr int kWrongPassword = 193;
inline constexpr int kRequiredPassword = 194;
inline constexpr int kZlibInflateFailed = 354;
inline constexpr int kSessionNotFound = 372;
inline constexpr int kSessionIsLocked = 373;
inline constexpr int kInvalidSessionTimeout = 374;
inline constexpr int kQueryIsTooLarge = 393;
inline constexpr int kCannotParseBool = 467;
inline constexpr int kAccessDenied = 497;

// The symbolic name ClickHouse prints for a code ("SYNTAX_ERROR"); "UNKNOWN" if unlisted.
std::string_view ErrorCodeName(int code);

}  // namespace trackhouse::ch
