package dev.agentevents.testing;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Debian's Chromium driven by Playwright, the way every browser test here needs it: {@code /usr/bin/chromium}, never a
 * downloaded browser, headless, no sandbox (tests run as root), no background networking (the machine's closed network
 * refuses it), and a page whose script errors and console errors are captured for the test to assert on.
 */
public final class Browsers {

    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    private Browsers() {
    }

    public static Browser chromium(Playwright playwright) {
        return playwright.chromium().launch(new BrowserType.LaunchOptions()
                .setExecutablePath(CHROMIUM)
                .setHeadless(true)
                .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync")));
    }

    /** A new page of {@code browser} whose uncaught errors and console errors land in {@code errors}. */
    public static Page page(Browser browser, List<String> errors) {
        Page page = browser.newPage();
        page.onPageError(errors::add);
        page.onConsoleMessage(message -> {
            if ("error".equals(message.type())) {
                errors.add(message.text());
            }
        });
        return page;
    }

    /** A list for {@link #page}'s errors, safe to read from the test thread. */
    public static List<String> errors() {
        return new CopyOnWriteArrayList<>();
    }
}
