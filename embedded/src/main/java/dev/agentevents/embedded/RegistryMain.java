package dev.agentevents.embedded;

/** Runs a schema registry configured from the environment (see {@link RegistryConfig}) until the JVM stops. */
public final class RegistryMain {

    private RegistryMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        SchemaRegistryServer server = SchemaRegistryServer.start(RegistryConfig.fromEnv(System.getenv()));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "schema-registry-shutdown"));
        System.out.println("READY registry=" + server.url());
        Thread.currentThread().join();
    }
}
