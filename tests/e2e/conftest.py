from playwright.sync_api import expect

# Assertions wait for the page up to this long (Playwright's default is 5 s): CI machines have
# 2 cores and may be busy; a fast page still passes at once.
expect.set_options(timeout=15_000)
