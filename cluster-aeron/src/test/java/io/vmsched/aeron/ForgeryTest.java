package io.vmsched.aeron;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.vmsched.aeron.TestSupport.LOOPBACK;
import static io.vmsched.aeron.TestSupport.await;
import static io.vmsched.aeron.TestSupport.freeUdpPort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Forgery at the Aeron level (a raw UDP packet without Aeron's own framing never reaches the
 * transport: Aeron's driver drops it). A forger runs its own media driver and publishes to the
 * receiver's endpoint whatever bytes it likes; a spy on the genuine sender's driver captures a real
 * frame on its way, as someone on the wire would.
 */
@Timeout(60)
class ForgeryTest
{
    private static final int A = 1;
    private static final int B = 2;

    private final List<AutoCloseable> started = new ArrayList<>();
    private final byte[] secret = TestSupport.secret(7);
    private final TestSupport.Log bLog = new TestSupport.Log("b");
    private AeronTransport a;
    private AeronTransport b;
    private String bEnd;
    private ManyToOneRingBuffer bInbox;
    private ExclusivePublication forger;
    private Aeron forgerClient;
    private byte[] captured;

    @BeforeEach
    void start()
    {
        final String aEnd = LOOPBACK + ":" + freeUdpPort();
        bEnd = LOOPBACK + ":" + freeUdpPort();
        a = track(new AeronTransport(new AeronTransport.Context().senderOffsets(t -> AeronTransport.NO_SENDER_FIELD).hostId(A).bind(aEnd).secret(secret).peer(B, bEnd)
            .log(new TestSupport.Log("a"))));
        b = track(new AeronTransport(new AeronTransport.Context().senderOffsets(t -> AeronTransport.NO_SENDER_FIELD).hostId(B).bind(bEnd).secret(secret).peer(A, aEnd).log(bLog)));
        a.attach(A, TestSupport.inbox(1 << 16));
        bInbox = TestSupport.inbox(1 << 16);
        b.attach(B, bInbox);

        final MediaDriver forgerDriver = track(MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(new SleepingMillisIdleStrategy(1))
            .termBufferSparseFile(true)
            .publicationTermBufferLength(1 << 16)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)));
        forgerClient = track(Aeron.connect(new Aeron.Context().aeronDirectoryName(forgerDriver.aeronDirectoryName())));
        forger = track(forgerClient.addExclusivePublication("aeron:udp?endpoint=" + bEnd, AeronTransport.STREAM_ID));

        // capture: a spy on a's own driver sees every frame a publishes to b, as bytes on the wire
        final Aeron spyClient = track(Aeron.connect(new Aeron.Context().aeronDirectoryName(a.aeronDirectoryName())));
        final Subscription spy = track(spyClient.addSubscription("aeron-spy:aeron:udp?endpoint=" + bEnd, AeronTransport.STREAM_ID));
        final int helloLength = "hello b".length();
        final FragmentAssembler capture = new FragmentAssembler((buffer, offset, length, header) ->
        {
            if (length == FrameDescriptor.frameLength(helloLength))
            {
                final byte[] bytes = new byte[length];
                buffer.getBytes(offset, bytes);
                captured = bytes;
            }
        });
        final UnsafeBuffer hello = new UnsafeBuffer("hello b".getBytes());
        // a's publication to b comes with a's first send; the spy joins it, then sees what follows
        await("a's connection to b", 10_000, () ->
        {
            a.poll(); // the HELLO b answers with: a learns b's incarnation
            b.poll();
            a.send(B, 5, hello, 0, 0);
        }, () -> a.isConnected(B) && spy.imageCount() > 0);
        final boolean[] helloSent = {false};
        final boolean[] helloRead = {false};
        await("a's message to reach b, captured on the way", 10_000, () ->
        {
            helloSent[0] |= !helloSent[0] && a.send(B, 5, hello, 0, hello.capacity());
            a.poll();
            b.poll();
            spy.poll(capture, 10);
            bInbox.read((type, buffer, index, length) ->
            {
                assertEquals(5, type);
                helloRead[0] |= length == helloLength;
            });
        }, () -> helloRead[0] && captured != null);
        await("the forger's connection to b", 10_000, b::poll, forger::isConnected);
    }

    @AfterEach
    void stop()
    {
        CloseHelper.closeAll(started);
    }

    private <T extends AutoCloseable> T track(final T closeable)
    {
        started.add(0, closeable);
        return closeable;
    }

    @Test
    void replayOfACapturedFrameIsRefused()
    {
        assertRefused(captured, Refusal.REPLAY);
    }

    @Test
    void anAlteredByteIsRefused()
    {
        final byte[] altered = captured.clone();
        altered[FrameDescriptor.HEADER_LENGTH] ^= 1; // the payload's first byte
        assertRefused(altered, Refusal.BAD_MAC);

        final byte[] typeChanged = captured.clone();
        typeChanged[FrameDescriptor.TYPE_OFFSET] ^= 2; // a "transfer" turned into something else
        assertRefused(typeChanged, Refusal.BAD_MAC);
    }

    @Test
    void aWrongKeyIsRefused()
    {
        assertRefused(frame(HmacSha256.forDataPlane(TestSupport.secret(8)), A, B, Long.MAX_VALUE - 1), Refusal.BAD_MAC);
    }

    @Test
    void anUnknownSenderIsRefusedEvenWithTheKey()
    {
        assertRefused(frame(HmacSha256.forDataPlane(secret), 9, B, Long.MAX_VALUE - 1), Refusal.UNKNOWN_SENDER);
        assertRefused(frame(HmacSha256.forDataPlane(secret), B, B, Long.MAX_VALUE - 1), Refusal.UNKNOWN_SENDER); // b itself
    }

    @Test
    void aFrameForAnotherHostIsRefused()
    {
        assertRefused(frame(HmacSha256.forDataPlane(secret), A, 3, Long.MAX_VALUE - 1), Refusal.WRONG_TARGET);
    }

    @Test
    void aNewerVersionIsRefused()
    {
        final byte[] newer = frame(HmacSha256.forDataPlane(secret), A, B, Long.MAX_VALUE - 1);
        newer[FrameDescriptor.VERSION_OFFSET] = FrameDescriptor.CURRENT_VERSION + 1;
        HmacSha256.forDataPlane(secret).mac(newer, 0, newer.length - HmacSha256.MAC_LENGTH, newer, newer.length - HmacSha256.MAC_LENGTH);
        assertRefused(newer, Refusal.WRONG_VERSION);
    }

    @Test
    void truncatedFramesAreRefused()
    {
        assertRefused(Arrays.copyOf(captured, captured.length - 5), Refusal.TRUNCATED);
        assertRefused(Arrays.copyOf(captured, 10), Refusal.TRUNCATED);
        final byte[] padded = Arrays.copyOf(captured, captured.length + 8);
        assertRefused(padded, Refusal.MALFORMED);
    }

    @Test
    void aTypeTheInboxCannotTakeIsRefusedNotThrown()
    {
        final HmacSha256 mac = HmacSha256.forDataPlane(secret);
        final byte[] zeroType = frame(mac, A, B, Long.MAX_VALUE - 1);
        new UnsafeBuffer(zeroType).putInt(FrameDescriptor.TYPE_OFFSET, 0);
        mac.mac(zeroType, 0, zeroType.length - HmacSha256.MAC_LENGTH, zeroType, zeroType.length - HmacSha256.MAC_LENGTH);
        assertRefused(zeroType, Refusal.MALFORMED);
    }

    @Test
    void aFrameCapturedBeforeTheReceiverRestartedIsRefusedAfter()
    {
        // b restarts on the same endpoint: its sequences from a start again from nothing
        final int oldIncarnation = b.incarnation();
        started.remove(b);
        b.close();
        bInbox = TestSupport.inbox(1 << 16);
        b = track(new AeronTransport(new AeronTransport.Context().senderOffsets(t -> AeronTransport.NO_SENDER_FIELD)
            .hostId(B).bind(bEnd).secret(secret).peer(A, LOOPBACK + ":" + a.bind().substring(a.bind().lastIndexOf(':') + 1))
            .log(bLog)));
        b.attach(B, bInbox);
        assertNotEquals(oldIncarnation, b.incarnation(), "a new incarnation at each start");
        // a fresh publication: the old one may still look connected to the old b's image for seconds, and the
        // new b drops its data until a SETUP; a new session is connected only once the new b answered its SETUP
        forger.close();
        forger = track(forgerClient.addExclusivePublication("aeron:udp?endpoint=" + bEnd, AeronTransport.STREAM_ID));
        await("the forger's connection to the new b", 30_000, b::poll, forger::isConnected);
        // before a says anything: the new b's sequences from a start from nothing, so only the incarnation
        // tells the replay of a frame the old b accepted from a fresh one
        final UnsafeBuffer replay = new UnsafeBuffer(captured);
        await("the forger's offer", 10_000, b::poll, () -> forger.offer(replay, 0, replay.capacity()) > 0);
        await("the replay refused", 30_000, b::poll, () -> b.refusals(Refusal.STALE_INCARNATION) == 1);
        assertEquals(0, b.delivered());
        assertEquals(0, bInbox.size(), "the replay reached the inbox");
        assertTrue(bLog.contains(Refusal.STALE_INCARNATION.reason()), bLog.lines.toString());
        // a's first frames name b's old incarnation: refused, answered with a HELLO; then a gets through
        final UnsafeBuffer next = new UnsafeBuffer("again".getBytes());
        // Aeron re-establishes a's publication to the restarted driver on that port: seconds on a busy machine
        // (once over 30 s beside a CI build); a sends every 20 ms, not in a spin, so that b's refusals and HELLOs
        // do not flood both drivers meanwhile
        final long[] lastSend = {0};
        await("a's message through to the new b", 90_000, () ->
        {
            if (System.nanoTime() - lastSend[0] > 20_000_000L)
            {
                lastSend[0] = System.nanoTime();
                a.send(B, 6, next, 0, next.capacity());
            }
            a.poll();
            b.poll();
        }, () -> b.delivered() > 0);
        bInbox.read((type, buffer, index, length) -> assertEquals(6, type));
    }

    @Test
    void garbageUdpPacketsAreDroppedByAeronAndChangeNothing() throws Exception
    {
        final int port = Integer.parseInt(bEnd.substring(bEnd.lastIndexOf(':') + 1));
        final Random random = new Random(11);
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName(LOOPBACK)))
        {
            for (int i = 0; i < 200; i++)
            {
                final byte[] junk = new byte[1 + random.nextInt(1400)];
                random.nextBytes(junk);
                if (i % 2 == 0 && junk.length >= 64)
                {
                    System.arraycopy(captured, 0, junk, 0, Math.min(captured.length, junk.length)); // a real frame without Aeron's header
                }
                socket.send(new DatagramPacket(junk, junk.length, InetAddress.getByName(LOOPBACK), port));
            }
        }
        for (int i = 0; i < 50; i++)
        {
            b.poll();
        }
        assertEquals(0, b.refusals());
        assertGenuineStillDelivered();
    }

    /** Publish forged bytes to b; b refuses them for the reason given, logs it, and changes nothing. */
    private void assertRefused(final byte[] forged, final Refusal reason)
    {
        final long before = b.refusals(reason);
        final long allBefore = b.refusals();
        final long delivered = b.delivered();
        final UnsafeBuffer bytes = new UnsafeBuffer(forged);
        await("the forger's offer", 10_000, b::poll, () -> forger.offer(bytes, 0, bytes.capacity()) > 0);
        await("b to refuse a frame (" + reason + ")", 10_000, b::poll, () -> b.refusals() > allBefore);
        assertEquals(before + 1, b.refusals(reason), "refused for another reason than " + reason);
        assertEquals(delivered, b.delivered());
        assertEquals(0, bInbox.size(), "a refused frame reached the inbox");
        assertTrue(bLog.contains(reason.reason()), "no log line says '" + reason.reason() + "': " + bLog.lines);
        bLog.lines.forEach(line -> assertFalse(line.contains("\n")));
        assertGenuineStillDelivered();
    }

    /** a's next genuine message still gets through: no refused frame moved a's sequence at b. */
    private void assertGenuineStillDelivered()
    {
        final long delivered = b.delivered();
        final UnsafeBuffer next = new UnsafeBuffer("still here".getBytes());
        final Runnable both = () ->
        {
            a.poll();
            b.poll();
        };
        await("a's send", 10_000, both, () -> a.send(B, 6, next, 0, next.capacity()));
        await("a's next message at b", 10_000, both, () -> b.delivered() == delivered + 1);
        final byte[] got = new byte[1];
        assertEquals(1, bInbox.read((type, buffer, index, length) ->
        {
            assertEquals(6, type);
            got[0] = buffer.getByte(index);
        }));
        assertEquals('s', got[0]);
    }

    /** A well-formed frame with a MAC from the key given. */
    private byte[] frame(final HmacSha256 mac, final int sender, final int target, final long sequence)
    {
        final int targetIncarnation = b.incarnation(); // the one thing a forger could learn by listening
        final byte[] payload = "resolve vm 42 to the forger".getBytes();
        final byte[] frame = new byte[FrameDescriptor.frameLength(payload.length)];
        final UnsafeBuffer buffer = new UnsafeBuffer(frame);
        FrameDescriptor.writeHeader(buffer, 7, sender, target, sequence, payload.length, targetIncarnation);
        buffer.putBytes(FrameDescriptor.HEADER_LENGTH, payload);
        final int macOffset = FrameDescriptor.macOffset(payload.length);
        mac.mac(frame, 0, macOffset, frame, macOffset);
        assertNotNull(frame);
        return frame;
    }
}
