package dev.agentevents.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.schemas.DeadLetterHeaders;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;

/** Writes replayed records as they come: JSON Lines (one object per record) or CSV (one row per record). */
final class RecordOutput implements AutoCloseable {

    enum Format { JSONL, CSV }

    static final List<String> CSV_COLUMNS = List.of("topic", "partition", "offset", "timestamp", "key", "kind",
            "userId", "threadId", "runId", "seq", "type", "occurredAt", "detail", "hash", "errorCode", "errorMessage");

    private final Writer writer;
    private final Format format;

    RecordOutput(Writer writer, Format format) {
        this.writer = writer;
        this.format = format;
        if (format == Format.CSV) {
            line(String.join(",", CSV_COLUMNS));
        }
    }

    void write(Decoded record) {
        ObjectNode json = record.toJson();
        if (format == Format.JSONL) {
            line(json.toString());
            return;
        }
        JsonNode event = json.path("event");
        JsonNode gap = json.path("gap");
        String detail = !gap.isMissingNode() ? "seqs " + gap.path("fromSeq").asText() + ".." + gap.path("toSeq").asText()
                + " missing (" + gap.path("reason").asText() + ")" : detail(event);
        line(String.join(",", cell(record.topic()), cell(Integer.toString(record.partition())),
                cell(Long.toString(record.offset())), cell(record.timestamp().toString()), cell(record.key()),
                cell(record.kind()), cell(record.userId()), cell(record.threadId()), cell(record.runId()),
                cell(record.seq() == null ? null : record.seq().toString()), cell(record.type()),
                cell(record.occurredAtMs() == null ? null : java.time.Instant.ofEpochMilli(record.occurredAtMs())
                        .toString()), cell(detail), cell(json.path("hash").asText(null)),
                cell(record.deadLetterHeader(DeadLetterHeaders.CODE)),
                cell(record.kind().equals("dead-letter") ? record.deadLetterHeader(DeadLetterHeaders.MESSAGE)
                        : record.error())));
    }

    private static String detail(JsonNode event) {
        for (String payload : List.of("thinking", "toolCall", "toolResult", "messageDelta", "completed", "failed")) {
            if (event.has(payload)) {
                return payload + " " + event.get(payload);
            }
        }
        return null;
    }

    static String cell(String value) {
        if (value == null) {
            return "";
        }
        if (value.contains(",") || value.contains("\"") || value.contains("\n") || value.contains("\r")) {
            return "\"" + value.replace("\"", "\"\"") + "\"";
        }
        return value;
    }

    private void line(String text) {
        try {
            writer.write(text);
            writer.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the output: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
