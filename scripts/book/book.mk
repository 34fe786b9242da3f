# Book: chapters/*.md (in name order) rendered to one HTML page and an EPUB,
# with code listings pulled from the sources by scripts/book/snippets.lua.
#   make book        -> $(BUILD)/book/async-nostd.html and async-nostd.epub
#   make book-check  -> every listing names exactly one snippet in the sources
# Self-contained: needs nothing from the including Makefile but, optionally, BUILD.

BUILD             ?= build
PANDOC            ?= pandoc
BOOK_PYTHON       ?= python3
BOOK_OUT          := $(BUILD)/book
BOOK_TOOLS        := scripts/book
BOOK_FILTER       := $(BOOK_TOOLS)/snippets.lua
BOOK_CHAPTERS      = $(sort $(wildcard chapters/*.md))
BOOK_META          = $(wildcard chapters/_book/metadata.yaml)
BOOK_SNIPPET_DIRS ?= src bench scripts Makefile test.py

BOOK_PANDOC = SNIPPET_DIRS='$(BOOK_SNIPPET_DIRS)' $(PANDOC) --from=markdown \
	--lua-filter=$(BOOK_FILTER) --toc --toc-depth=2 --highlight-style=tango \
	--resource-path=$(BOOK_OUT):.:chapters $(if $(BOOK_META),--metadata-file=$(BOOK_META))

-include scripts/book/figures.mk

.PHONY: book book-html book-epub book-check book-tools

book: book-html book-epub

book-check:
	@SNIPPET_DIRS='$(BOOK_SNIPPET_DIRS)' $(BOOK_PYTHON) $(BOOK_TOOLS)/check_snippets.py

book-tools:
	@command -v $(PANDOC) >/dev/null 2>&1 || { \
	  echo "book: pandoc not found; install it with scripts/setup.sh (or: scripts/setup.sh book)" >&2; exit 1; }
	@test -n "$(BOOK_CHAPTERS)" || { echo "book: no chapters/*.md to build" >&2; exit 1; }
	@mkdir -p $(BOOK_OUT)

# Always rebuilt: a listing depends on every source file that may hold a marker.
book-html: book-check book-tools $(BOOK_FIGURES)
	$(BOOK_PANDOC) --to=html5 --standalone --self-contained \
	  --css=$(BOOK_TOOLS)/book.css -o $(BOOK_OUT)/async-nostd.html.tmp $(BOOK_CHAPTERS)
	@mv $(BOOK_OUT)/async-nostd.html.tmp $(BOOK_OUT)/async-nostd.html
	@echo "book: $(BOOK_OUT)/async-nostd.html"

book-epub: book-check book-tools $(BOOK_FIGURES)
	$(BOOK_PANDOC) --to=epub3 --epub-chapter-level=1 \
	  --css=$(BOOK_TOOLS)/epub.css -o $(BOOK_OUT)/async-nostd.epub.tmp $(BOOK_CHAPTERS)
	@mv $(BOOK_OUT)/async-nostd.epub.tmp $(BOOK_OUT)/async-nostd.epub
	@echo "book: $(BOOK_OUT)/async-nostd.epub"
