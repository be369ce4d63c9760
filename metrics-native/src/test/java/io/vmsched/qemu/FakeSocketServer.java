package io.vmsched.qemu;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A plain Unix socket server for tests: it accepts one client and runs a script on it (on its own thread), e.g.
 * saying something that is not QMP, or answering like QEMU and then closing mid-command. {@link #close} stops it.
 */
final class FakeSocketServer implements AutoCloseable
{
    /** What the server does with its client. */
    @FunctionalInterface
    interface Script
    {
        void run(BufferedReader in, Writer out) throws IOException, InterruptedException;
    }

    private final ServerSocketChannel server;
    private final Path path;
    private final Thread thread;
    private volatile SocketChannel client;

    FakeSocketServer(final Path path, final Script script) throws IOException
    {
        this.path = path;
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        thread = new Thread(() ->
        {
            try (SocketChannel c = server.accept())
            {
                client = c;
                final BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
                final Writer out = new OutputStreamWriter(Channels.newOutputStream(c), StandardCharsets.UTF_8);
                script.run(in, out);
                out.flush();
            }
            catch (final IOException | InterruptedException ex)
            {
                // closed by the test, or the client went away: the script is over
            }
        }, "fake-socket-server");
        thread.setDaemon(true);
        thread.start();
    }

    /** A line in QMP's greeting format, as QEMU 7.2 sends it. */
    static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " +
        "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}";

    /** Write a line and flush it. */
    static void say(final Writer out, final String line) throws IOException
    {
        out.write(line + "\n");
        out.flush();
    }

    /** The {@code id} of a command line as the client sent it. */
    static String id(final String command)
    {
        final int at = command.indexOf("\"id\":");
        return command.substring(at + 5, command.indexOf('}', at)).strip();
    }

    @Override
    public void close() throws Exception
    {
        server.close();
        final SocketChannel c = client;
        if (null != c)
        {
            c.close();
        }
        thread.interrupt();
        thread.join(10_000);
        Files.deleteIfExists(path);
    }
}
