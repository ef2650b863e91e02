# System packages the browser tests need (Debian): Chromium for Playwright, which cannot
# download its own browsers here. Installed only when missing, and only where apt-get runs as
# root; elsewhere the browser tests skip with a message that says what to install.

.PHONY: setup-system

setup-system: ## install Debian's chromium for the browser tests when it is missing (root + apt-get)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "setup-system: installing chromium (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; \
	else echo "setup-system: chromium not installed and apt-get unavailable: browser tests will skip"; fi
