package dev.novee.devkit;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.net.InetSocketAddress;

/**
 * Starts mongo-java-server on loopback and prints "LISTENING host:port" once it accepts connections.
 * Usage: MongoJavaServerMain [--port N] [--h2 FILE]   (port 0 = any free port; no --h2 = in memory)
 * Exits when its standard input closes, so it never outlives the process that started it.
 */
public final class MongoJavaServerMain {
  public static void main(String[] args) throws Exception {
    int port = 0;
    String h2File = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--h2" -> h2File = args[++i];
        default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
      }
    }
    MongoBackend backend = h2File == null ? new MemoryBackend() : new H2Backend(h2File);
    // The newest version it can play: buildInfo says 5.0.0, but mongo-java-server's own table maps MONGO_5_0 to
    // wire version 8 (real MongoDB 5.0 is 13), below the 9 that mongodb driver 7 requires: hence driver 6.
    backend.version(ServerVersion.MONGO_5_0);
    MongoServer server = new MongoServer(backend);
    server.bind("127.0.0.1", port);
    InetSocketAddress address = server.getLocalAddress();
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown));
    System.out.println("LISTENING " + address.getHostString() + ":" + address.getPort());
    System.out.flush();
    while (System.in.read() != -1) {
      // keep running until the parent closes our stdin
    }
    server.shutdown();
  }
}
