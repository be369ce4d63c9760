package io.vmsched.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.vmsched.qemu.FakeSocketServer.GREETING;
import static io.vmsched.qemu.FakeSocketServer.id;
import static io.vmsched.qemu.FakeSocketServer.say;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link QmpClient} against a real QEMU (skipped, with the reason, where {@code qemu-system-x86_64} is missing) and
 * against plain Unix socket servers that are not QEMU or fail on purpose.
 */
@Timeout(120)
class QmpClientTest
{
    private static final Duration SHORT = Duration.ofMillis(500);

    @Test
    void talksToARealQemu(@TempDir final Path dir) throws Exception
    {
        final String binary = QemuVm.binary();
        Assumptions.assumeTrue(binary != null, QemuVm.MISSING);
        try (QemuVm vm = QemuVm.start(binary, dir, "vm", true);
             QmpClient qmp = QmpClient.connect(vm.socket))
        {
            assertTrue(qmp.qemuVersion().matches("\\d+\\.\\d+\\.\\d+"), qmp.qemuVersion());
            final JsonNode status = qmp.execute("query-status");
            assertEquals("running", status.path("status").asText(), status.toString());
            assertEquals(64L << 20, qmp.execute("query-balloon").path("actual").asLong());

            // an error reply: QEMU's class and description, and the connection goes on
            final QmpException bad = assertThrows(QmpException.class, () -> qmp.execute("balloon", Map.of("value", -5)));
            assertEquals("GenericError", bad.errorClass());
            assertTrue(bad.description().contains("target"), bad.description());
            assertEquals("QEMU refused balloon: GenericError: " + bad.description(), bad.getMessage());
            final QmpException unknown = assertThrows(QmpException.class, () -> qmp.execute("no-such-command"));
            assertEquals("CommandNotFound", unknown.errorClass());
            assertEquals("running", qmp.execute("query-status").path("status").asText());
        }
    }

    @Test
    void aVmWithoutBalloonAnswersDeviceNotActive(@TempDir final Path dir) throws Exception
    {
        final String binary = QemuVm.binary();
        Assumptions.assumeTrue(binary != null, QemuVm.MISSING);
        try (QemuVm vm = QemuVm.start(binary, dir, "vm", false);
             QmpClient qmp = QmpClient.connect(vm.socket))
        {
            final QmpException ex = assertThrows(QmpException.class, () -> qmp.execute("query-balloon"));
            assertEquals("DeviceNotActive", ex.errorClass(), ex.getMessage());
        }
    }

    @Test
    void noSocket(@TempDir final Path dir)
    {
        final Path missing = dir.resolve("missing.sock");
        final IOException ex = assertThrows(IOException.class, () -> QmpClient.connect(missing, SHORT));
        assertTrue(ex.getMessage().startsWith("no QMP socket at " + missing + ": no such file"), ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"));
    }

    @Test
    void aSocketThatIsNotQmp(@TempDir final Path dir) throws Exception
    {
        final Path path = dir.resolve("smtp.sock");
        try (FakeSocketServer server = new FakeSocketServer(path, (in, out) -> say(out, "220 mail.example ESMTP ready")))
        {
            final IOException ex = assertThrows(IOException.class, () -> QmpClient.connect(path, SHORT));
            assertEquals(path + " does not speak QMP: its first line is '220 mail.example ESMTP ready'", ex.getMessage());
        }
    }

    @Test
    void aSocketThatSaysNothing(@TempDir final Path dir) throws Exception
    {
        final Path path = dir.resolve("silent.sock");
        try (FakeSocketServer server = new FakeSocketServer(path, (in, out) -> in.readLine()))
        {
            final long start = System.nanoTime();
            final SocketTimeoutException ex = assertThrows(SocketTimeoutException.class, () -> QmpClient.connect(path, SHORT));
            assertTrue(ex.getMessage().startsWith(path + ": no QMP greeting within 500 ms"), ex.getMessage());
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos(), "the connect's timeout held");
        }
    }

    @Test
    void skipsEventsAndKeepsThem(@TempDir final Path dir) throws Exception
    {
        final Path path = dir.resolve("events.sock");
        final String event = "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"BALLOON_CHANGE\", " +
            "\"data\": {\"actual\": 33554432}}";
        try (FakeSocketServer server = new FakeSocketServer(path, (in, out) ->
        {
            say(out, GREETING);
            say(out, "{\"return\": {}, \"id\": " + id(in.readLine()) + "}");
            final String id = id(in.readLine());
            say(out, event);
            say(out, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, \"event\": \"STOP\"}");
            say(out, "{\"return\": {\"actual\": 33554432}, \"id\": " + id + "}");
            in.readLine();
        });
             QmpClient qmp = QmpClient.connect(path, SHORT))
        {
            assertEquals(32L << 20, qmp.execute("query-balloon").path("actual").asLong());
            assertEquals(32L << 20, qmp.awaitEvent("BALLOON_CHANGE", SHORT).path("data").path("actual").asLong());
            final List<JsonNode> rest = qmp.takeEvents();
            assertEquals(1, rest.size(), rest.toString());
            assertEquals("STOP", rest.get(0).path("event").asText());
            assertTrue(qmp.takeEvents().isEmpty());
        }
    }

    @Test
    void aLateReplyIsDroppedAndTheConnectionGoesOn(@TempDir final Path dir) throws Exception
    {
        final Path path = dir.resolve("slow.sock");
        try (FakeSocketServer server = new FakeSocketServer(path, (in, out) ->
        {
            say(out, GREETING);
            say(out, "{\"return\": {}, \"id\": " + id(in.readLine()) + "}");
            final String slow = id(in.readLine()); // not answered until the next command came
            final String next = id(in.readLine());
            say(out, "{\"return\": \"late\", \"id\": " + slow + "}");
            say(out, "{\"return\": \"next\", \"id\": " + next + "}");
            in.readLine();
        });
             QmpClient qmp = QmpClient.connect(path, SHORT))
        {
            final SocketTimeoutException ex = assertThrows(SocketTimeoutException.class,
                () -> qmp.execute("query-status", null, Duration.ofMillis(200)));
            assertEquals(path + ": no answer within the deadline while waiting for the reply to query-status", ex.getMessage());
            assertEquals("next", qmp.execute("query-name").asText());
        }
    }

    @Test
    void aCommandSentReturnsBeforeItsReplyWhichIsReadLater(@TempDir final Path dir) throws Exception
    {
        final Path path = dir.resolve("send.sock");
        final java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        try (FakeSocketServer server = new FakeSocketServer(path, (in, out) ->
        {
            say(out, GREETING);
            say(out, "{\"return\": {}, \"id\": " + id(in.readLine()) + "}");
            final String quit = in.readLine();
            try
            {
                answer.await(); // no answer until the test has seen send return
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            say(out, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, \"event\": \"SHUTDOWN\"}");
            say(out, "{\"return\": {}, \"id\": " + id(quit) + "}");
            in.readLine();
        });
             QmpClient qmp = QmpClient.connect(path, SHORT))
        {
            final long id = qmp.send("quit");
            answer.countDown();
            assertTrue(qmp.awaitReply("quit", id, SHORT).isEmpty(), "quit's answer, read after send returned");
            assertEquals("SHUTDOWN", qmp.takeEvents().get(0).path("event").asText(), "the event before it is kept");
            final SocketTimeoutException ex = assertThrows(SocketTimeoutException.class,
                () -> qmp.awaitReply("quit", id + 1, Duration.ofMillis(100)), "a reply never sent times out");
            assertEquals(path + ": no answer within the deadline while waiting for the reply to quit", ex.getMessage());
        }
    }

    @Test
    void theSocketClosingMidCommand(@TempDir final Path dir) throws Exception
    {
        final Path path = dir.resolve("closing.sock");
        try (FakeSocketServer server = new FakeSocketServer(path, (in, out) ->
        {
            say(out, GREETING);
            say(out, "{\"return\": {}, \"id\": " + id(in.readLine()) + "}");
            in.readLine(); // then the script ends: the server closes the connection
        });
             QmpClient qmp = QmpClient.connect(path, SHORT))
        {
            final EOFException ex = assertThrows(EOFException.class, () -> qmp.execute("query-balloon"));
            assertEquals(path + " closed while waiting for the reply to query-balloon", ex.getMessage());
        }
    }

    @Test
    void aReplyThatIsNotQmp(@TempDir final Path dir) throws Exception
    {
        final Path path = dir.resolve("garbage.sock");
        try (FakeSocketServer server = new FakeSocketServer(path, (in, out) ->
        {
            say(out, GREETING);
            say(out, "{\"return\": {}, \"id\": " + id(in.readLine()) + "}");
            in.readLine();
            say(out, "<html>oops</html>");
            in.readLine();
        });
             QmpClient qmp = QmpClient.connect(path, SHORT))
        {
            final IOException ex = assertThrows(IOException.class, () -> qmp.execute("query-balloon"));
            assertEquals(path + " does not speak QMP: it answered query-balloon with '<html>oops</html>'", ex.getMessage());
        }
    }
}
