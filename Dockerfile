# One image for every agent-events application; the compose file picks the jar with `command`.
#   docker build -t agent-events .
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests package

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 agent && mkdir -p /app /var/lib/agent-events && chown agent /var/lib/agent-events
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/embedded/target/agent-events-embedded.jar \
                  /src/streams-router/target/agent-events-router.jar \
                  /src/ws-fanout/target/agent-events-fanout.jar \
                  /src/devstack/target/agent-events-devstack.jar /app/
USER agent
WORKDIR /var/lib/agent-events
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
CMD ["java", "-jar", "/app/agent-events-router.jar"]
