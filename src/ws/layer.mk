# WebSocket layer: pure sources (no I/O, no allocation), compiled both freestanding and hosted.
PURE_SRCS_ws := src/ws/ws_sha1.c src/ws/ws_base64.c src/ws/ws_accept.c src/ws/ws_utf8.c \
                src/ws/ws_close.c src/ws/ws_frame.c src/ws/ws_message.c

# hosted_ws_ref checks SHA-1 and base64 against OpenSSL's libcrypto when its
# headers are installed (package libssl-dev), else against python3's hashlib.
# This explicit rule overrides the generic hosted rule only for that binary.
WS_REF_FLAGS := $(if $(wildcard /usr/include/openssl/evp.h),-lcrypto,-DWS_REF_PYTHON)
$(B)/hosted/ws/hosted_ws_ref: src/ws/tests/hosted_ws_ref.c $(PURE_SRCS_ws)
	@mkdir -p $(@D) ; echo "  HOSTED  $@" ; $(HOSTED_CC) $(CPPFLAGS) $(CFLAGS_HOST) $^ $(WS_REF_FLAGS) -o $@
