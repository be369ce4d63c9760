package io.vmsched.aeron;

import io.vmsched.handoff.HostMessages;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static io.vmsched.aeron.TestSupport.LOOPBACK;
import static io.vmsched.aeron.TestSupport.await;
import static io.vmsched.aeron.TestSupport.freeUdpPort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A member speaks for itself only, and only in the messages hosts exchange: with the runtime's policy
 * ({@link HostMessages#senderOffset}), an authenticated frame whose payload names another sender, one of
 * a type no peer may send (the API's requests, the registry's OWNER_ANSWER, which would let a member
 * activate a migration the registry never applied), or one too short to name its sender is refused with
 * its reason logged; a proper one is delivered.
 */
@Timeout(60)
class PeerMessagesTest
{
    private static final int A = 1;
    private static final int B = 2;

    private final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void stop()
    {
        for (int i = started.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(started.get(i));
        }
    }

    @Test
    void onlyPeerMessagesNamingTheirSignerAreDelivered()
    {
        final byte[] secret = TestSupport.secret(11);
        final String aEnd = LOOPBACK + ":" + freeUdpPort();
        final String bEnd = LOOPBACK + ":" + freeUdpPort();
        final TestSupport.Log bLog = new TestSupport.Log("b");
        final AeronTransport a = new AeronTransport(new AeronTransport.Context().hostId(A).bind(aEnd).secret(secret)
            .peer(B, bEnd).log(new TestSupport.Log("a")));
        started.add(a);
        final AeronTransport b = new AeronTransport(new AeronTransport.Context().hostId(B).bind(bEnd).secret(secret)
            .peer(A, aEnd).peer(3, LOOPBACK + ":" + freeUdpPort()).log(bLog));
        started.add(b);
        a.attach(A, TestSupport.inbox(1 << 16));
        final ManyToOneRingBuffer inbox = TestSupport.inbox(1 << 16);
        b.attach(B, inbox);

        final UnsafeBuffer gossip = new UnsafeBuffer(new byte[HostMessages.LoadFigures.length(0)]);
        new HostMessages.LoadFigures().wrap(gossip, 0).header(A, 0);
        await("a connection", 10_000, () ->
        {
            a.poll(); // b's HELLO: a learns b's incarnation
            b.poll();
            a.send(B, HostMessages.GOSSIP, gossip, 0, gossip.capacity());
        }, () -> a.isConnected(B));
        final int[] read = {0};
        final boolean[] sent = {false};
        await("a's gossip delivered", 10_000, () ->
        {
            sent[0] |= !sent[0] && a.send(B, HostMessages.GOSSIP, gossip, 0, gossip.capacity());
            a.poll();
            b.poll();
            read[0] += inbox.read((type, buffer, index, length) -> assertEquals(HostMessages.GOSSIP, type));
        }, () -> read[0] >= 1);

        // a transfer that claims to come from host 3
        final UnsafeBuffer transfer = new UnsafeBuffer(new byte[HostMessages.Transfer.HEADER_LENGTH + 4]);
        transfer.putInt(HostMessages.Transfer.SOURCE_OFFSET, 3, HostMessages.ORDER);
        sendAndExpect(a, b, inbox, HostMessages.TRANSFER, transfer, Refusal.SENDER_MISMATCH);
        // the registry's answer, forged by a member
        final UnsafeBuffer ownerAnswer = new UnsafeBuffer(new byte[HostMessages.OwnerAnswer.LENGTH]);
        sendAndExpect(a, b, inbox, HostMessages.OWNER_ANSWER, ownerAnswer, Refusal.NOT_A_PEER_MESSAGE);
        // an admission request (the API's, local only)
        sendAndExpect(a, b, inbox, HostMessages.ADMIT, new UnsafeBuffer(new byte[32]), Refusal.NOT_A_PEER_MESSAGE);
        // an ACK too short to name its sender
        sendAndExpect(a, b, inbox, HostMessages.ACK, new UnsafeBuffer(new byte[8]), Refusal.TRUNCATED);
        assertTrue(bLog.contains("its payload names another sender"), "the reason is logged");
        assertTrue(bLog.contains("a message type no peer may send"), "the reason is logged");
    }

    private static void sendAndExpect(final AeronTransport a, final AeronTransport b, final ManyToOneRingBuffer inbox,
        final int type, final UnsafeBuffer payload, final Refusal refusal)
    {
        final long before = b.refusals(refusal);
        await("a's message of type " + type + " refused as " + refusal, 10_000, () ->
        {
            a.send(B, type, payload, 0, payload.capacity());
            a.poll();
            b.poll();
        }, () -> b.refusals(refusal) > before);
        // a gossip of the connection's start may still arrive; nothing of the refused type does
        inbox.read((t, buffer, index, length) -> assertEquals(HostMessages.GOSSIP, t, "type " + type + " delivered"));
    }
}
