package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.streams.WriteStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
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
                open::get, (code, reason) -> sent.add(Frame.reset("closed " + code)), false), new FanoutMetrics(
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

    @Test
    void shouldHandFramesStraightToTheSocketFromTheFeedThreadAndQueueThemInOrderWhenItIsFull() throws Exception {
        AtomicBoolean full = new AtomicBoolean(false);
        AtomicReference<Handler<Void>> drained = new AtomicReference<>();
        @SuppressWarnings("unchecked")
        WriteStream<Object> stream = (WriteStream<Object>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {WriteStream.class}, (proxy, method, args) -> {
                    if (method.getName().equals("writeQueueFull")) {
                        return full.get();
                    }
                    if (method.getName().equals("drainHandler")) {
                        drained.set((Handler<Void>) args[0]);
                    }
                    return proxy;
                });
        List<String> sent = new CopyOnWriteArrayList<>();
        List<Boolean> fromEventLoop = new CopyOnWriteArrayList<>();
        Subscriber subscriber = new Subscriber("u1", 0, null, null, context, new Subscriber.Transport(stream,
                frame -> {
                    sent.add(frame.hasPosition() ? Long.toString(frame.offset()) : "welcome");
                    fromEventLoop.add(Context.isOnEventLoopThread());
                }, () -> true, (code, reason) -> { }, true), new FanoutMetrics(new SimpleMeterRegistry()), 100,
                1_000_000);
        subscriber.startAfter(-1);

        // the welcome is queued for the event loop; frames offered before it is written must wait behind it
        subscriber.control(Frame.welcome("u1", 0, "node", "none", "0:-1"));
        for (int offset = 0; offset < 10; offset++) {
            subscriber.offer(event(offset));
        }
        awaitQuiet();
        subscriber.offer(event(10));
        full.set(true);
        subscriber.offer(event(11));
        subscriber.offer(event(12));
        awaitQuiet();
        assertThat(sent).containsExactly("welcome", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
        assertThat(fromEventLoop.get(fromEventLoop.size() - 1)).as("an idle socket is written from the feed thread")
                .isFalse();
        assertThat(drained.get()).as("a full socket is waited on").isNotNull();

        full.set(false);
        context.runOnContext(v -> drained.get().handle(null));
        awaitQuiet();
        subscriber.offer(event(13));

        assertThat(sent).containsExactly("welcome", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11",
                "12", "13");
        assertThat(subscriber.isClosed()).isFalse();
    }

    private static Frame event(long offset) {
        return new Frame(0, offset, "u1", "run-1", "thread-1", 0,
                ("{\"type\":\"event\",\"pos\":\"0:" + offset + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    private void awaitQuiet() throws Exception {
        // tasks on one event-loop context run in order: once this one has run, the drains queued before it have too
        CompletableFuture<Void> done = new CompletableFuture<>();
        context.runOnContext(v -> done.complete(null));
        done.get(5, TimeUnit.SECONDS);
    }
}
