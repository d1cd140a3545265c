package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.streams.WriteStream;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A subscriber whose connection closed before its close handler ran (the peer's close frame arrived, or the node
 * closed it for a violation) must not touch the stream: Vert.x throws "WebSocket is closed" from
 * {@code writeQueueFull} and {@code drainHandler} then, which once surfaced as unhandled exceptions on the event loop.
 */
class SubscriberTest {

    private final Vertx vertx = Vertx.vertx();
    private final Context context = vertx.getOrCreateContext();

    @AfterEach
    void close() {
        vertx.close();
    }

    /** A stream that behaves as a closed Vert.x WebSocket does until {@code open} is set. */
    @SuppressWarnings("unchecked")
    private static WriteStream<Object> stream(AtomicBoolean open) {
        return (WriteStream<Object>) Proxy.newProxyInstance(SubscriberTest.class.getClassLoader(),
                new Class<?>[] {WriteStream.class}, (proxy, method, args) -> {
                    if (!open.get()) {
                        throw new IllegalStateException("WebSocket is closed");
                    }
                    return method.getName().equals("writeQueueFull") ? false : proxy;
                });
    }

    private Subscriber subscriber(AtomicBoolean open, List<Frame> sent, List<Throwable> errors) {
        context.exceptionHandler(errors::add);
        return new Subscriber("u1", 0, null, null, context, new Subscriber.Transport(stream(open), sent::add,
                open::get, (code, reason) -> sent.add(Frame.reset("closed " + code))), new FanoutMetrics(
                new SimpleMeterRegistry()), 100, 1_000_000);
    }

    @Test
    void shouldWriteFramesWhileTheConnectionIsOpen() throws Exception {
        AtomicBoolean open = new AtomicBoolean(true);
        List<Frame> sent = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        Subscriber subscriber = subscriber(open, sent, errors);

        subscriber.control(Frame.welcome("u1", 0, "node", "none", "0:-1"));
        subscriber.control(Frame.reset("r"));
        awaitQuiet();

        assertThat(sent).hasSize(2);
        assertThat(errors).isEmpty();
        assertThat(subscriber.isClosed()).isFalse();
    }

    @Test
    void shouldStopWritingWithoutErrorsOnceTheConnectionIsClosedUnderIt() throws Exception {
        AtomicBoolean open = new AtomicBoolean(false);
        List<Frame> sent = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        Subscriber subscriber = subscriber(open, sent, errors);

        subscriber.control(Frame.welcome("u1", 0, "node", "none", "0:-1"));
        awaitQuiet();
        subscriber.control(Frame.reset("after the close"));
        subscriber.closeAfter(Frame.reset("last"), (short) 4008, "too slow");
        awaitQuiet();

        assertThat(errors).isEmpty();
        assertThat(sent).isEmpty();
        assertThat(subscriber.isClosed()).isTrue();
    }

    private void awaitQuiet() throws Exception {
        // tasks on one event-loop context run in order: once this one has run, the drains queued before it have too
        CompletableFuture<Void> done = new CompletableFuture<>();
        context.runOnContext(v -> done.complete(null));
        done.get(5, TimeUnit.SECONDS);
    }
}
