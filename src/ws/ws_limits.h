// Tunable limits of the WebSocket layer; defaults here, src/config.h may override them.
#ifndef WS_LIMITS_H
#define WS_LIMITS_H

#include "config.h"

#ifndef WS_MAX_MESSAGE
#define WS_MAX_MESSAGE (16u * 1024u * 1024u) // largest reassembled data message, bytes (more -> close 1009)
#endif

#ifndef WS_MAX_FRAME
#define WS_MAX_FRAME WS_MAX_MESSAGE // largest single frame payload, bytes (more -> close 1009)
#endif

#endif
