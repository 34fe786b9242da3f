// parse_result.h: the one result convention of the incremental parsers (HTTP head, chunks, frames).
#ifndef SYS_PARSE_RESULT_H
#define SYS_PARSE_RESULT_H

// An incremental parser is fed the bytes received so far and returns either
// a count of bytes it consumed (>= 0: the thing it parses is complete) or one
// of these two negative results. Call sites compare against the names, never
// against -1 or -2, so a reader sees at once which case a branch handles.
enum parse_result {
    PARSE_ERROR = -1,     // the bytes break the protocol; the parser says which status or close code
    PARSE_NEED_MORE = -2, // everything so far is valid but incomplete: read more, then call again
};

#endif
