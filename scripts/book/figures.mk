# Book figures: chapters/figures/NAME.dot is drawn by Graphviz into
# $(BUILD)/book/figures/NAME.svg; chapters/figures/NAME.svg is hand-written
# source and is copied as it is. The chapters refer to figures/NAME.svg and
# pandoc finds it through --resource-path ($(BUILD)/book comes first).
#   make book-figures  -> every figure; one rule per file, so only changed ones redo
# Included by scripts/book/book.mk, which makes book-html and book-epub depend
# on $(BOOK_FIGURES).

BUILD            ?= build
DOT              ?= dot
BOOK_FIG_SRC     := chapters/figures
BOOK_FIG_OUT     := $(BUILD)/book/figures
BOOK_FIG_DOTS    := $(sort $(wildcard $(BOOK_FIG_SRC)/*.dot))
BOOK_FIG_SVGS    := $(sort $(wildcard $(BOOK_FIG_SRC)/*.svg))
BOOK_FIGURES     := $(patsubst $(BOOK_FIG_SRC)/%.dot,$(BOOK_FIG_OUT)/%.svg,$(BOOK_FIG_DOTS)) \
                    $(patsubst $(BOOK_FIG_SRC)/%.svg,$(BOOK_FIG_OUT)/%.svg,$(BOOK_FIG_SVGS))

.PHONY: book-figures
book-figures: $(BOOK_FIGURES)

# A temporary file and a rename, so an interrupted run leaves no half figure.
$(BOOK_FIG_OUT)/%.svg: $(BOOK_FIG_SRC)/%.dot | $(BOOK_FIG_OUT)
	@command -v $(DOT) >/dev/null 2>&1 || { \
	  echo "book: graphviz's dot not found; install it with scripts/setup.sh book (Debian package: graphviz)" >&2; exit 1; }
	$(DOT) -Tsvg -o $@.tmp $<
	@mv $@.tmp $@

$(BOOK_FIG_OUT)/%.svg: $(BOOK_FIG_SRC)/%.svg | $(BOOK_FIG_OUT)
	cp $< $@

$(BOOK_FIG_OUT):
	@mkdir -p $@
