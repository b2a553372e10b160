# Build, test and install raftd and raftctl with their man pages and shell completions.
#
#   make                      release build of raftd and raftctl
#   make install              into PREFIX (default /usr/local); DESTDIR is honoured for packaging
#   make install PREFIX=~/.local
#   make uninstall PREFIX=...
#   make test                 the whole test suite (swift test)
#   make completions          regenerate completions/ after changing raftctl's commands
#
# CONFIGURATION=debug installs a debug build instead (faster to build, slower to run).

PREFIX ?= /usr/local
DESTDIR ?=
CONFIGURATION ?= release
SWIFT ?= swift
INSTALL ?= install

bindir := $(DESTDIR)$(PREFIX)/bin
man1dir := $(DESTDIR)$(PREFIX)/share/man/man1
man8dir := $(DESTDIR)$(PREFIX)/share/man/man8
bashdir := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
zshdir := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
fishdir := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

.PHONY: all build install uninstall test completions lint-man

all: build

build:
	$(SWIFT) build -c $(CONFIGURATION) --product raftd
	$(SWIFT) build -c $(CONFIGURATION) --product raftctl

# raftctl finds raftd in its own directory, so both go to the same bin.
install: build
	$(eval binpath := $(shell $(SWIFT) build -c $(CONFIGURATION) --show-bin-path))
	$(INSTALL) -d $(bindir) $(man1dir) $(man8dir) $(bashdir) $(zshdir) $(fishdir)
	$(INSTALL) -m 755 $(binpath)/raftd $(binpath)/raftctl $(bindir)/
	$(INSTALL) -m 644 man/raftctl.1 $(man1dir)/raftctl.1
	$(INSTALL) -m 644 man/raftd.8 $(man8dir)/raftd.8
	$(INSTALL) -m 644 completions/raftctl.bash $(bashdir)/raftctl
	$(INSTALL) -m 644 completions/_raftctl $(zshdir)/_raftctl
	$(INSTALL) -m 644 completions/raftctl.fish $(fishdir)/raftctl.fish

uninstall:
	rm -f $(bindir)/raftd $(bindir)/raftctl $(man1dir)/raftctl.1 $(man8dir)/raftd.8 \
		$(bashdir)/raftctl $(zshdir)/_raftctl $(fishdir)/raftctl.fish

test:
	$(SWIFT) test

completions:
	scripts/update-completions.sh

# A development aid (needs mandoc); DocsTests is what CI runs.
lint-man:
	mandoc -T lint -W warning man/raftctl.1 man/raftd.8
