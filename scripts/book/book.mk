# Book: chapters/*.md (in name order) rendered to one HTML page, one page per
# chapter and an EPUB, with code listings pulled from the sources by
# scripts/book/snippets.lua and console transcripts checked by running them.
#   make book        -> $(BUILD)/book/async-nostd.html, html/*.html, async-nostd.epub;
#                       ends with "book: L listings, T transcripts, F figures checked"
#   make book-check  -> every listing names exactly one snippet in the sources; no listing
#                       names a symbol of src/ that a later chapter introduces
#                       (scripts/book/check_listings.py); the glossary has every term a
#                       chapter defines, linked to its definition (scripts/book/check_glossary.py)
#   make book-numbers -> every number with a unit in the prose (and README.md) comes
#                       from the build, is marked approximate with its source, or sits in
#                       a "measured on" box (scripts/book/book_numbers.py)
#   make book-transcripts -> every transcript's command prints what the chapter shows
#                       (scripts/book/transcripts.py; cached in $(BUILD)/book/transcripts);
#                       BOOK_SKIP_SUITES=1 leaves out those that re-run a test suite
#                       (`make test` has just run them; `make check` runs them too)
# Self-contained: needs nothing from the including Makefile but, optionally, BUILD.

BUILD             ?= build
PANDOC            ?= pandoc
BOOK_PYTHON       ?= python3
BOOK_OUT          := $(BUILD)/book
BOOK_TOOLS        := scripts/book
BOOK_FILTER       := $(BOOK_TOOLS)/snippets.lua
BOOK_CHAPTERS      = $(sort $(wildcard chapters/*.md))
BOOK_META          = $(wildcard chapters/_book/metadata.yaml)
BOOK_SNIPPET_DIRS ?= src bench scripts chapters/code Makefile test.py

BOOK_PANDOC = SNIPPET_DIRS='$(BOOK_SNIPPET_DIRS)' $(PANDOC) --from=markdown \
	--lua-filter=$(BOOK_FILTER) --toc --toc-depth=2 --highlight-style=tango \
	--resource-path=$(BOOK_OUT):.:chapters $(if $(BOOK_META),--metadata-file=$(BOOK_META))

.PHONY: book book-html book-pages book-epub book-check book-numbers book-transcripts book-tools

# The figures' own rules (sources in chapters/figures/), when present.
-include scripts/book/figures.mk

book: book-numbers book-transcripts book-html book-pages book-epub
	@$(BOOK_PYTHON) $(BOOK_TOOLS)/transcripts.py summary --out $(BOOK_OUT) $(BOOK_CHAPTERS)

book-transcripts: book-tools
	@BOOK_SKIP_SUITES='$(BOOK_SKIP_SUITES)' $(BOOK_PYTHON) $(BOOK_TOOLS)/transcripts.py check $(BOOK_CHAPTERS)

book-check:
	@SNIPPET_DIRS='$(BOOK_SNIPPET_DIRS)' $(BOOK_PYTHON) $(BOOK_TOOLS)/check_snippets.py
	@SNIPPET_DIRS='$(BOOK_SNIPPET_DIRS)' $(BOOK_PYTHON) $(BOOK_TOOLS)/check_listings.py
	@$(BOOK_PYTHON) $(BOOK_TOOLS)/check_glossary.py

book-numbers:
	@$(BOOK_PYTHON) $(BOOK_TOOLS)/book_numbers.py check

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

book-pages: book-check book-tools $(BOOK_FIGURES)
	@SNIPPET_DIRS='$(BOOK_SNIPPET_DIRS)' $(BOOK_PYTHON) $(BOOK_TOOLS)/pages.py --out $(BOOK_OUT)/html --pandoc '$(PANDOC)' \
	  --css $(BOOK_TOOLS)/book.css --filter $(BOOK_FILTER) $(if $(BOOK_META),--meta $(BOOK_META)) \
	  $(BOOK_CHAPTERS)

book-epub: book-check book-tools $(BOOK_FIGURES)
	$(BOOK_PANDOC) --to=epub3 --epub-chapter-level=1 \
	  --css=$(BOOK_TOOLS)/epub.css -o $(BOOK_OUT)/async-nostd.epub.tmp $(BOOK_CHAPTERS)
	@mv $(BOOK_OUT)/async-nostd.epub.tmp $(BOOK_OUT)/async-nostd.epub
	@echo "book: $(BOOK_OUT)/async-nostd.epub"
