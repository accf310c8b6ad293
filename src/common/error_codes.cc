#include "common/error_codes.h"

namespace trackhouse::ch {

std::string_view ErrorCodeName(int code) {
  switch (code) {
    case 1: return "UNSUPPORTED_METHOD";
    case 6: return "CANNOT_PARSE_TEXT";
    case 7: return "NUMBER_OF_COLUMNS_DOESNT_MATCH";
    case 10: return "NOT_FOUND_COLUMN_IN_BLOCK";
    case 15: return "DUPLICATE_COLUMN";
    case 16: return "NO_SUCH_COLUMN_IN_TABLE";
    case 25: return "CANNOT_PARSE_ESCAPE_SEQUENCE";
    case 27: return "CANNOT_PARSE_INPUT_ASSERTION_FAILED";
    case 33: return "CANNOT_READ_ALL_DATA";
    case 36: return "BAD_ARGUMENTS";
    case 38: return "CANNOT_PARSE_DATE";
    case 40: return "CHECKSUM_DOESNT_MATCH";
    case 41: return "CANNOT_PARSE_DATETIME";
    case 42: return "NUMBER_OF_ARGUMENTS_DOESNT_MATCH";
    case 43: return "ILLEGAL_TYPE_OF_ARGUMENT";
    case 44: return "ILLEGAL_COLUMN";
    case 46: return "UNKNOWN_FUNCTION";
    case 47: return "UNKNOWN_IDENTIFIER";
    case 48: return "NOT_IMPLEMENTED";
    case 49: return "LOGICAL_ERROR";
    case 50: return "UNKNOWN_TYPE";
    case 53: return "TYPE_MISMATCH";
    case 56: return "UNKNOWN_STORAGE";
    case 57: return "TABLE_ALREADY_EXISTS";
    case 60: return "UNKNOWN_TABLE";
    case 62: return "SYNTAX_ERROR";
    case 63: return "UNKNOWN_AGGREGATE_FUNCTION";
    case 67: return "EMPTY_QUERY";
    case 69: return "ARGUMENT_OUT_OF_BOUND";
    case 70: return "CANNOT_CONVERT_TYPE";
    case 72: return "CANNOT_PARSE_NUMBER";
    case 73: return "UNKNOWN_FORMAT";
    case 75: return "CANNOT_WRITE_TO_FILE_DESCRIPTOR";
    case 76: return "CANNOT_OPEN_FILE";
    case 80: return "INCORRECT_QUERY";
    case 81: return "UNKNOWN_DATABASE";
    case 82: return "DATABASE_ALREADY_EXISTS";
    case 95: return "CANNOT_FSYNC";
    case 107: return "FILE_DOESNT_EXIST";
    case 115: return "UNKNOWN_SETTING";
    case 117: return "INCORRECT_DATA";
    case 131: return "TOO_LARGE_STRING_SIZE";
    case 158: return "TOO_MANY_ROWS";
    case 159: return "TIMEOUT_EXCEEDED";
    case 164: return "READONLY";
    case 192: return "UNKNOWN_USER";
    case 202: return "TOO_MANY_SIMULTANEOUS_QUERIES";
    case 236: return "ABORTED";
    case 241: return "MEMORY_LIMIT_EXCEEDED";
    case 242: return "TABLE_IS_READ_ONLY";
    case 243: return "NOT_ENOUGH_SPACE";
    case 246: return "CORRUPTED_DATA";
    case 252: return "TOO_MANY_PARTS";
    case 321: return "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE";
    case 394: return "QUERY_WAS_CANCELLED";
    case 516: return "AUTHENTICATION_FAILED";
  }
  return "UNKNOWN";
}

}  // namespace trackhouse::ch
