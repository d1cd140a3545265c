package dev.agentevents.fanout;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.assertions.LocatorAssertions;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.testing.Browsers;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The demo page in Debian's Chromium, driven by Playwright: sign in, watch a run's lifecycle events appear in order,
 * lose the socket server-side, and see the page resume without showing anything twice.
 */
@Tag("slow")
class DemoPageBrowserTest {

    private FanoutFixture fixture;
    private Playwright playwright;
    private Browser browser;

    @BeforeEach
    void start() throws Exception {
        fixture = new FanoutFixture();
        playwright = Playwright.create();
        browser = Browsers.chromium(playwright);
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.close();
        }
        if (playwright != null) {
            playwright.close();
        }
        fixture.close();
    }

    private static List<String> attributes(Locator items, String name) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < items.count(); i++) {
            values.add(items.nth(i).getAttribute(name));
        }
        return values;
    }

    @Test
    void shouldShowRunLiveInOrderAndResumeWithoutDuplicatesAfterServerDropsTheSocket() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_DEMO", "true"));
        List<String> errors = Browsers.errors();
        Page page = Browsers.page(browser, errors);
        page.navigate(node.httpUrl() + "/");
        page.click("button[data-user=alice]");
        assertThat(page.locator("[data-testid=connection] .label")).containsText("live",
                new LocatorAssertions.ContainsTextOptions().setTimeout(20_000));

        fixture.writeAll(FanoutFixture.run("alice", "run-one-0000"));
        Locator first = page.locator("article[data-run-id=run-one-0000]");
        assertThat(first.locator("[data-testid=status]")).hasText("completed",
                new LocatorAssertions.HasTextOptions().setTimeout(20_000));
        Locator steps = first.locator("li[data-event-type]");
        org.assertj.core.api.Assertions.assertThat(attributes(steps, "data-event-type")).containsExactly(
                "agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed");
        org.assertj.core.api.Assertions.assertThat(attributes(steps, "data-seq"))
                .containsExactly("0", "1", "2", "3", "4");
        assertThat(first.locator("pre.result")).containsText("clear");
        first.locator("[data-testid=ag-ui-view]").click();
        assertThat(first.locator("[data-testid=ag-ui] li").last()).hasText("RUN_FINISHED",
                new LocatorAssertions.HasTextOptions().setTimeout(20_000));
        org.assertj.core.api.Assertions.assertThat(attributes(first.locator("[data-testid=ag-ui] li"),
                "data-ag-ui-type")).startsWith("RUN_STARTED", "REASONING_START").contains("TOOL_CALL_START",
                "TOOL_CALL_RESULT");

        node.disconnectAll();
        List<AgentEvent> second = FanoutFixture.run("alice", "run-two-0000");
        fixture.writeAll(second.subList(0, 2));
        assertThat(page.locator("[data-testid=counters]")).containsText("1 reconnect",
                new LocatorAssertions.ContainsTextOptions().setTimeout(20_000));
        fixture.writeAll(second.subList(2, 5));

        Locator next = page.locator("article[data-run-id=run-two-0000]");
        assertThat(next.locator("[data-testid=status]")).hasText("completed",
                new LocatorAssertions.HasTextOptions().setTimeout(20_000));
        org.assertj.core.api.Assertions.assertThat(attributes(next.locator("li[data-event-type]"), "data-seq"))
                .containsExactly("0", "1", "2", "3", "4");
        org.assertj.core.api.Assertions.assertThat(attributes(first.locator("li[data-event-type]"), "data-seq"))
                .containsExactly("0", "1", "2", "3", "4");
        assertThat(page.locator("[data-testid=connection] .label")).containsText("live");
        page.screenshot(new Page.ScreenshotOptions().setPath(Paths.get("target", "demo-page.png")).setFullPage(true));
        org.assertj.core.api.Assertions.assertThat(errors).isEmpty();
    }

    @Test
    void shouldStayLiveAcrossTokenRefreshesWithNoReconnectAndNothingMissed() throws Exception {
        FanoutNode node = fixture.startSoleNode(Map.of("FANOUT_DEMO", "true", "FANOUT_DEMO_TOKEN_TTL_MS", "4000",
                "FANOUT_TOKEN_EXPIRY_WARNING_MS", "2000"));
        List<String> errors = Browsers.errors();
        Page page = Browsers.page(browser, errors);
        page.navigate(node.httpUrl() + "/");
        page.click("button[data-user=bob]");
        assertThat(page.locator("[data-testid=connection] .label")).containsText("live",
                new LocatorAssertions.ContainsTextOptions().setTimeout(20_000));

        // not a condition: time passes well beyond the first token's exp (4 s) and the server's leeway (5 s); only
        // refreshes keep the socket
        Thread.sleep(12_000);
        fixture.writeAll(FanoutFixture.run("bob", "run-after-expiry"));
        Locator run = page.locator("article[data-run-id=run-after-expiry]");
        assertThat(run.locator("[data-testid=status]")).hasText("completed",
                new LocatorAssertions.HasTextOptions().setTimeout(20_000));
        assertThat(page.locator("[data-testid=counters]")).containsText("0 reconnects");
        assertThat(page.locator("[data-testid=connection] .label")).containsText("live");
        org.assertj.core.api.Assertions.assertThat(FanoutNodeTest.scrape(node))
                .doesNotContain("fanout_refused_total{reason=\"token_expired\"} 1.0");
        org.assertj.core.api.Assertions.assertThat(errors).isEmpty();
    }
}
