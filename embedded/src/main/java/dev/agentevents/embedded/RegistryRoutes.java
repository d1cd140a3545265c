package dev.agentevents.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry's HTTP routes, declared as method + path template ({@code /subjects/{subject}/versions/{version}}):
 * a request is answered by the route whose template matches its path segment by segment; a path that matches only
 * with another method answers 405, one that matches nothing 404 (Confluent's codes).
 */
final class RegistryRoutes {

    /** One request as a handler sees it: the path's named segments, the query, the body. */
    record Request(Map<String, String> path, Map<String, String> query, InputStream body) {

        String path(String name) {
            return path.get(name);
        }

        boolean flag(String name) {
            return "true".equalsIgnoreCase(query.get(name));
        }
    }

    @FunctionalInterface
    interface Handler {
        Object handle(Request request) throws IOException;
    }

    private record Route(String method, List<String> template, Handler handler) {

        /** The named segments of {@code path} when it fits this template, else null. */
        Map<String, String> match(List<String> path) {
            if (path.size() != template.size()) {
                return null;
            }
            Map<String, String> names = new HashMap<>();
            for (int i = 0; i < path.size(); i++) {
                String part = template.get(i);
                if (part.startsWith("{")) {
                    names.put(part.substring(1, part.length() - 1), path.get(i));
                } else if (!part.equals(path.get(i))) {
                    return null;
                }
            }
            return names;
        }
    }

    private final List<Route> routes = new ArrayList<>();

    RegistryRoutes add(String method, String template, Handler handler) {
        routes.add(new Route(method, segments(template), handler));
        return this;
    }

    Object answer(String method, List<String> path, Map<String, String> query, InputStream body) throws IOException {
        boolean pathKnown = false;
        for (Route route : routes) {
            Map<String, String> names = route.match(path);
            if (names == null) {
                continue;
            }
            if (route.method().equals(method)) {
                return route.handler().handle(new Request(names, query, body));
            }
            pathKnown = true;
        }
        throw pathKnown ? new RegistryError(405, 405, "HTTP 405 Method Not Allowed")
                : RegistryError.notFound(404, "HTTP 404 Not Found");
    }

    private static List<String> segments(String template) {
        List<String> parts = new ArrayList<>();
        for (String part : template.split("/")) {
            if (!part.isEmpty()) {
                parts.add(part);
            }
        }
        return parts;
    }
}
