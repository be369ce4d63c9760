package io.vmsched.qemu;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A client of QEMU's QMP (the QEMU Machine Protocol) over the VM's Unix domain socket, as QEMU serves it with
 * {@code -qmp unix:PATH,server=on,wait=off}: JSON objects, one a line.
 * <p>
 * {@link #connect} reads QEMU's greeting and leaves the capabilities negotiation ({@code qmp_capabilities}), so
 * the client is in command mode. {@link #execute} sends one command with an {@code id} and returns QEMU's
 * {@code return} value, or throws {@link QmpException} with QEMU's error class and description. Asynchronous
 * events that arrive meanwhile (e.g. {@code BALLOON_CHANGE}, {@code STOP}) are kept, the latest
 * {@value #KEPT_EVENTS}, for {@link #takeEvents} and {@link #awaitEvent}.
 * <p>
 * Every read has a deadline (the client's timeout, or the one given to a call): none is ever unbounded. A
 * command whose reply does not come in time throws {@link SocketTimeoutException}; the connection stays usable
 * (a late reply is recognised by its id and dropped). Other failures are {@link IOException}s with a one-line
 * message naming the socket: no socket, nothing listening, a peer that does not speak QMP, the socket closed
 * while a command waited. QEMU serves one QMP client at a time on a socket: a second client waits for the
 * greeting until the first disconnects, so its connect times out.
 * <p>
 * Threading: the calls are serialised (one command on the socket at a time), so the client may be shared, but
 * a call waits for the one before it; {@link #close} may be called from any thread and ends a call in progress
 * with an {@link IOException}.
 */
public final class QmpClient implements AutoCloseable
{
    /** The timeout when none is given: QEMU answers a query in well under a millisecond. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    /** How many asynchronous events are kept for {@link #takeEvents}; older ones are dropped. */
    public static final int KEPT_EVENTS = 1024;

    private static final int MAX_LINE_BYTES = 16 << 20; // a reply as large as qom-list of a big machine fits
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path socket;
    private final Duration timeout;
    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private final ArrayDeque<String> lines = new ArrayDeque<>();
    private final ArrayDeque<JsonNode> events = new ArrayDeque<>();
    private final JsonNode greeting;
    private long lastId;
    private volatile boolean closed;

    private QmpClient(final Path socket, final Duration timeout, final SocketChannel channel, final Selector selector)
        throws IOException
    {
        this.socket = socket;
        this.timeout = timeout;
        this.channel = channel;
        this.selector = selector;
        this.key = channel.register(selector, SelectionKey.OP_READ);
        final long deadline = System.nanoTime() + timeout.toNanos();
        final String first;
        try
        {
            first = readLine(deadline, "QEMU's greeting");
        }
        catch (final SocketTimeoutException ex)
        {
            throw new SocketTimeoutException(socket + ": no QMP greeting within " + millis(timeout) +
                " ms (not QEMU, or another QMP client is connected: QEMU serves one at a time)");
        }
        final JsonNode hello = parse(first);
        if (hello == null || !hello.path("QMP").isObject())
        {
            throw new IOException(socket + " does not speak QMP: its first line is " + quote(first));
        }
        this.greeting = hello.get("QMP");
        execute("qmp_capabilities", (JsonNode) null, timeout);
    }

    /**
     * Connect with {@link #DEFAULT_TIMEOUT}; see {@link #connect(Path, Duration)}.
     *
     * @param socket the VM's QMP socket.
     * @return a client in command mode.
     * @throws IOException with a one-line message if the socket is not there, nothing listens, or it is not QMP.
     */
    public static QmpClient connect(final Path socket) throws IOException
    {
        return connect(socket, DEFAULT_TIMEOUT);
    }

    /**
     * Connect to a QMP socket, read QEMU's greeting and enter command mode ({@code qmp_capabilities}). Blocks
     * the caller up to about twice the timeout (greeting, then capabilities).
     *
     * @param socket  the VM's QMP socket ({@code -qmp unix:PATH,server=on,wait=off}).
     * @param timeout the deadline of every read for which a call gives none, positive.
     * @return a client in command mode.
     * @throws IOException with a one-line message if the socket is not there, nothing listens, it is not QMP
     *                     (another greeting, or none in time), or QEMU refuses the capabilities negotiation.
     */
    public static QmpClient connect(final Path socket, final Duration timeout) throws IOException
    {
        if (timeout.isNegative() || timeout.isZero())
        {
            throw new IllegalArgumentException("a QMP timeout must be positive, got " + timeout);
        }
        if (!Files.exists(socket))
        {
            throw new IOException("no QMP socket at " + socket + ": no such file (is the VM running with -qmp unix:" +
                socket + ",server=on,wait=off?)");
        }
        final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        Selector selector = null;
        try
        {
            try
            {
                channel.connect(UnixDomainSocketAddress.of(socket));
            }
            catch (final IOException ex)
            {
                throw new IOException("cannot connect to QMP socket " + socket + ": " + ex.getMessage(), ex);
            }
            channel.configureBlocking(false);
            selector = Selector.open();
            return new QmpClient(socket, timeout, channel, selector);
        }
        catch (final IOException | RuntimeException ex)
        {
            quietClose(selector);
            channel.close();
            throw ex;
        }
    }

    /** @return the socket this client talks to. */
    public Path socket()
    {
        return socket;
    }

    /** @return QEMU's greeting, the object under {@code "QMP"} ({@code version}, {@code capabilities}). */
    public JsonNode greeting()
    {
        return greeting;
    }

    /** @return QEMU's version from the greeting, e.g. {@code "7.2.22"}. */
    public String qemuVersion()
    {
        final JsonNode v = greeting.path("version").path("qemu");
        return v.path("major").asInt() + "." + v.path("minor").asInt() + "." + v.path("micro").asInt();
    }

    /**
     * Run a command without arguments, within the client's timeout.
     *
     * @param command the QMP command, e.g. {@code query-status}.
     * @return QEMU's {@code return} value (an object, an array or a scalar, as the command defines).
     * @throws QmpException if QEMU answers with an error.
     * @throws IOException  with a one-line message if the reply does not come in time or the socket fails.
     */
    public JsonNode execute(final String command) throws IOException
    {
        return execute(command, (JsonNode) null, timeout);
    }

    /**
     * Run a command with arguments, within the client's timeout.
     *
     * @param command   the QMP command, e.g. {@code balloon}.
     * @param arguments its arguments, turned into a JSON object by Jackson (e.g. {@code Map.of("value", bytes)}).
     * @return QEMU's {@code return} value.
     * @throws QmpException if QEMU answers with an error.
     * @throws IOException  with a one-line message if the reply does not come in time or the socket fails.
     */
    public JsonNode execute(final String command, final Map<String, ?> arguments) throws IOException
    {
        return execute(command, JSON.valueToTree(arguments), timeout);
    }

    /**
     * Run a command: send it with a fresh id, then read until its reply, keeping the events read meanwhile.
     *
     * @param command   the QMP command.
     * @param arguments its arguments object, or null for none.
     * @param timeout   how long to wait for the reply, positive.
     * @return QEMU's {@code return} value.
     * @throws QmpException           if QEMU answers with an error.
     * @throws SocketTimeoutException if the reply does not come in time (the connection stays usable).
     * @throws IOException            with a one-line message if the socket closes or fails, or the reply is not QMP.
     */
    public synchronized JsonNode execute(final String command, final JsonNode arguments, final Duration timeout)
        throws IOException
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        return awaitReply(command, write(command, arguments, deadline), deadline);
    }

    /**
     * Send a command and return without its reply: for a command whose effect is all that matters once
     * QEMU has it ({@code quit}). Keep the connection open until {@link #awaitReply} has it (or QEMU exited):
     * QEMU drops the commands still queued of a connection that closes.
     *
     * @param command the QMP command, without arguments.
     * @return its id, for {@link #awaitReply}.
     * @throws IOException with a one-line message if it could not be sent within the client's timeout.
     */
    public synchronized long send(final String command) throws IOException
    {
        return write(command, null, System.nanoTime() + timeout.toNanos());
    }

    /**
     * Send a command with arguments and return without its reply (see {@link #send(String)}): a caller that sends
     * several before it reads their replies saves a round trip for each (QEMU answers them in order).
     *
     * @param command   the QMP command.
     * @param arguments its arguments, turned into JSON by Jackson.
     * @return its id, for {@link #awaitReply}.
     * @throws IOException with a one-line message if it could not be sent within the client's timeout.
     */
    public synchronized long send(final String command, final Map<String, ?> arguments) throws IOException
    {
        return write(command, JSON.valueToTree(arguments), System.nanoTime() + timeout.toNanos());
    }

    /**
     * Read until the reply to a command {@link #send} sent, keeping the events read meanwhile.
     *
     * @param command the command, as sent (for messages).
     * @param id      what {@link #send} returned.
     * @param timeout how long to wait for the reply, positive.
     * @return QEMU's {@code return} value.
     * @throws QmpException           if QEMU answers with an error.
     * @throws SocketTimeoutException if the reply does not come in time.
     * @throws IOException            with a one-line message if the socket closes or fails, or the reply is not QMP.
     */
    public synchronized JsonNode awaitReply(final String command, final long id, final Duration timeout) throws IOException
    {
        return awaitReply(command, id, System.nanoTime() + timeout.toNanos());
    }

    private long write(final String command, final JsonNode arguments, final long deadline) throws IOException
    {
        final long id = ++lastId;
        final ObjectNode message = JSON.createObjectNode();
        message.put("execute", command);
        if (null != arguments)
        {
            message.set("arguments", arguments);
        }
        message.put("id", id);
        final byte[] json = JSON.writeValueAsBytes(message);
        final ByteBuffer out = ByteBuffer.allocate(json.length + 1).put(json).put((byte)'\n').flip();
        write(out, deadline, command);
        return id;
    }

    private JsonNode awaitReply(final String command, final long id, final long deadline) throws IOException
    {
        while (true)
        {
            final String line = readLine(deadline, "the reply to " + command);
            final JsonNode reply = parse(line);
            if (null == reply || !reply.isObject())
            {
                throw new IOException(socket + " does not speak QMP: it answered " + command + " with " + quote(line));
            }
            if (reply.has("event"))
            {
                keep(reply);
                continue;
            }
            final JsonNode replyId = reply.get("id");
            if (null != replyId && replyId.asLong() != id)
            {
                continue; // the late reply to a command that timed out
            }
            if (reply.has("return"))
            {
                return reply.get("return");
            }
            final JsonNode error = reply.get("error");
            if (null != error)
            {
                throw new QmpException(command, error.path("class").asText("?"), error.path("desc").asText(""));
            }
            throw new IOException(socket + " does not speak QMP: it answered " + command + " with " + quote(line));
        }
    }

    /**
     * The asynchronous events read so far (by commands or {@link #awaitEvent}), oldest first, and forget them.
     * Reads nothing from the socket.
     *
     * @return the events, each a whole QMP event object ({@code event}, {@code data}, {@code timestamp}).
     */
    public synchronized List<JsonNode> takeEvents()
    {
        final List<JsonNode> taken = new ArrayList<>(events);
        events.clear();
        return taken;
    }

    /**
     * The asynchronous events read so far and not yet taken, oldest first, without forgetting them. Reads nothing from
     * the socket.
     *
     * @return a copy of the kept events, each a whole QMP event object.
     */
    public synchronized List<JsonNode> keptEvents()
    {
        return new ArrayList<>(events);
    }

    /**
     * Wait for an asynchronous event by name: the oldest kept one, or the next one QEMU sends within the
     * timeout. The event returned is forgotten; others read meanwhile are kept.
     *
     * @param name    the event, e.g. {@code BALLOON_CHANGE}.
     * @param timeout how long to wait.
     * @return the event object.
     * @throws SocketTimeoutException if none comes in time.
     * @throws IOException            if the socket closes or fails.
     */
    public synchronized JsonNode awaitEvent(final String name, final Duration timeout) throws IOException
    {
        for (final Iterator<JsonNode> it = events.iterator(); it.hasNext(); )
        {
            final JsonNode event = it.next();
            if (name.equals(event.path("event").asText()))
            {
                it.remove();
                return event;
            }
        }
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (true)
        {
            final String line = readLine(deadline, "event " + name);
            final JsonNode message = parse(line);
            if (null != message && message.has("event"))
            {
                if (name.equals(message.path("event").asText()))
                {
                    return message;
                }
                keep(message);
            }
            // anything else is the late reply of a command that timed out
        }
    }

    /** Close the socket; a call in progress on another thread ends with an {@link IOException}. Idempotent. */
    @Override
    public void close()
    {
        closed = true;
        quietClose(channel);
        quietClose(selector); // wakes a thread blocked in select
    }

    private void keep(final JsonNode event)
    {
        if (events.size() == KEPT_EVENTS)
        {
            events.removeFirst();
        }
        events.addLast(event);
    }

    private void write(final ByteBuffer out, final long deadline, final String command) throws IOException
    {
        try
        {
            while (out.hasRemaining())
            {
                if (channel.write(out) == 0)
                {
                    key.interestOps(SelectionKey.OP_WRITE);
                    try
                    {
                        await(deadline, "sending " + command);
                    }
                    finally
                    {
                        key.interestOps(SelectionKey.OP_READ);
                    }
                }
            }
        }
        catch (final InterruptedIOException ex)
        {
            throw ex;
        }
        catch (final IOException | ClosedSelectorException | java.nio.channels.CancelledKeyException ex)
        {
            throw new IOException(socket + " closed while sending " + command + ": " + message(ex), ex);
        }
    }

    private String readLine(final long deadline, final String waitingFor) throws IOException
    {
        while (true)
        {
            final String line = lines.pollFirst();
            if (null != line)
            {
                if (line.isBlank())
                {
                    continue;
                }
                return line;
            }
            final int read;
            try
            {
                await(deadline, waitingFor);
                read = channel.read(readBuffer);
            }
            catch (final InterruptedIOException ex)
            {
                throw ex;
            }
            catch (final IOException | ClosedSelectorException | java.nio.channels.CancelledKeyException ex)
            {
                throw new IOException(socket + " closed while waiting for " + waitingFor + ": " + message(ex), ex);
            }
            if (read < 0)
            {
                throw new EOFException(socket + " closed while waiting for " + waitingFor);
            }
            split();
        }
    }

    /** Wait until the channel is ready for what its key asks, or the deadline. */
    private void await(final long deadline, final String what) throws IOException
    {
        while (true)
        {
            if (closed)
            {
                throw new IOException("client closed");
            }
            final long left = deadline - System.nanoTime();
            if (left <= 0)
            {
                throw new SocketTimeoutException(socket + ": no answer within the deadline while " +
                    (what.startsWith("sending") ? "" : "waiting for ") + what);
            }
            final int ready = selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            if (Thread.interrupted())
            {
                Thread.currentThread().interrupt(); // the owner's to handle
                throw new InterruptedIOException(socket + ": interrupted while " + what);
            }
            if (ready > 0)
            {
                selector.selectedKeys().clear();
                return;
            }
        }
    }

    /** Move the complete lines of what was read into {@link #lines}. */
    private void split() throws IOException
    {
        readBuffer.flip();
        while (readBuffer.hasRemaining())
        {
            final byte b = readBuffer.get();
            if (b == '\n')
            {
                lines.addLast(partial.toString(StandardCharsets.UTF_8).strip());
                partial.reset();
            }
            else
            {
                if (partial.size() >= MAX_LINE_BYTES)
                {
                    throw new IOException(socket + " does not speak QMP: a line longer than " + MAX_LINE_BYTES + " bytes");
                }
                partial.write(b);
            }
        }
        readBuffer.clear();
    }

    private static JsonNode parse(final String line)
    {
        try
        {
            return JSON.readTree(line);
        }
        catch (final JsonProcessingException ex)
        {
            return null;
        }
    }

    private static String quote(final String line)
    {
        final String oneLine = line.replaceAll("\\p{Cntrl}", " ");
        return "'" + (oneLine.length() > 80 ? oneLine.substring(0, 80) + "…" : oneLine) + "'";
    }

    private static String message(final Exception ex)
    {
        return null == ex.getMessage() ? ex.getClass().getSimpleName() : ex.getMessage();
    }

    private static long millis(final Duration d)
    {
        return d.toMillis();
    }

    private static void quietClose(final AutoCloseable closeable)
    {
        if (null != closeable)
        {
            try
            {
                closeable.close();
            }
            catch (final Exception ex)
            {
                // closing: nothing left to tell
            }
        }
    }
}
