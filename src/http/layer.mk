# layer.mk: make fragment of the http layer (pure sources are built freestanding and hosted).
PURE_SRCS_http := src/http/http_parse.c src/http/http_chunked.c

# The demo page is compiled into the binary: no file I/O to serve `/`.
GEN_SRCS_http := $(B)/gen/http_page.c
$(B)/gen/http_page.c: src/http/page/index.html scripts/embed_file.py
	@mkdir -p $(@D)
	@python3 scripts/embed_file.py $< http_page $@
