package io.vmsched.aeron.registry;

import io.aeron.security.Authenticator;
import io.aeron.security.AuthenticatorSupplier;
import io.aeron.security.SessionProxy;
import io.vmsched.aeron.HmacSha256;
import org.agrona.collections.Long2ObjectHashMap;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Iterator;
import java.util.function.Consumer;

/**
 * The registry's door: a member admits a client session only if the client proves it holds the
 * cluster's secret, by challenge and response.
 * <ol>
 *   <li>the client connects with {@link #CONNECT_CREDENTIALS} (it says which scheme it speaks; it is no
 *       secret): anything else (no credentials, another scheme) is refused at once;</li>
 *   <li>the member challenges it with a fresh random nonce of {@link #NONCE_LENGTH} bytes;</li>
 *   <li>the client answers {@code HMAC-SHA-256(key, nonce)}, where {@code key} is derived from the
 *       cluster secret for this use only ({@link #key(byte[])});</li>
 *   <li>the member compares the answer with its own in constant time and admits or refuses the session.</li>
 * </ol>
 * A nonce is answered once and never reused, so an answer captured on the network does not open
 * another session. What this does not do: the session's later messages are not signed, and nothing is
 * encrypted (Aeron UDP as it is); someone who can rewrite packets between a member and an honest
 * client can still relay the handshake.
 * <p>
 * <b>Note:</b> Not threadsafe: the consensus module's thread calls it (one instance per member).
 */
public final class RegistryAuthenticator implements Authenticator
{
    /** What a client presents when it connects: the scheme's name, not a secret. */
    public static final byte[] CONNECT_CREDENTIALS = "vmsched-registry-hmac-sha256-v1".getBytes(StandardCharsets.US_ASCII);
    /** Bytes of a challenge. */
    public static final int NONCE_LENGTH = 32;
    /** The principal of an admitted session (the cluster has one kind of client: a member of the cluster). */
    static final byte[] PRINCIPAL = "vmsched-node".getBytes(StandardCharsets.US_ASCII);
    /** A client that has not answered its challenge within this time is refused. */
    static final long ANSWER_TIMEOUT_MS = 10_000;
    /** Pending sessions are forgotten after this long (the consensus module times them out without telling us). */
    static final long FORGET_AFTER_MS = 60_000;
    private static final byte[] KEY_LABEL = "vmsched registry credentials v1".getBytes(StandardCharsets.US_ASCII);

    private final HmacSha256 mac;
    private final SecureRandom random = new SecureRandom();
    private final Consumer<String> log;
    private final String who;
    private final Long2ObjectHashMap<Pending> pending = new Long2ObjectHashMap<>();
    private final byte[] expected = new byte[HmacSha256.MAC_LENGTH];
    private long refused;

    /**
     * @param clusterSecret the cluster's secret (not kept: a key derived from it is).
     * @param who           who refuses, for the log ("registry member 0").
     * @param log           where a refused session is noted, one line.
     */
    public RegistryAuthenticator(final byte[] clusterSecret, final String who, final Consumer<String> log)
    {
        final byte[] key = key(clusterSecret);
        this.mac = new HmacSha256(key);
        Arrays.fill(key, (byte)0);
        this.who = who;
        this.log = log;
    }

    /**
     * @param clusterSecret the cluster's secret.
     * @param who           who refuses, for the log.
     * @param log           where a refused session is noted.
     * @return a supplier for {@code ConsensusModule.Context.authenticatorSupplier}: one authenticator per call.
     */
    public static AuthenticatorSupplier supplier(final byte[] clusterSecret, final String who, final Consumer<String> log)
    {
        return new Supplier(clusterSecret.clone(), who, log);
    }

    /**
     * The registry's key, derived from the cluster secret so that an answer to a challenge can never
     * stand for a MAC of another use of the same secret (the data plane's frames, say), even if a
     * forged challenge were chosen to look like one.
     *
     * @param clusterSecret the cluster's secret (not empty).
     * @return a 32-byte key.
     */
    public static byte[] key(final byte[] clusterSecret)
    {
        if (null == clusterSecret || 0 == clusterSecret.length)
        {
            throw new IllegalArgumentException("the cluster secret is empty");
        }
        final byte[] key = new byte[HmacSha256.MAC_LENGTH];
        new HmacSha256(clusterSecret).mac(KEY_LABEL, 0, KEY_LABEL.length, key, 0);
        return key;
    }

    @Override
    public void onConnectRequest(final long sessionId, final byte[] encodedCredentials, final long nowMs)
    {
        forgetOld(nowMs);
        final Pending session = new Pending(nowMs);
        if (Arrays.equals(CONNECT_CREDENTIALS, encodedCredentials))
        {
            session.nonce = new byte[NONCE_LENGTH];
            random.nextBytes(session.nonce);
            session.state = Pending.TO_CHALLENGE;
        }
        else
        {
            session.state = Pending.REFUSED; // no credentials, or another scheme: no challenge to answer
            session.why = null == encodedCredentials || 0 == encodedCredentials.length ? "no credentials" :
                "credentials of an unknown scheme";
        }
        pending.put(sessionId, session);
    }

    @Override
    public void onChallengeResponse(final long sessionId, final byte[] encodedCredentials, final long nowMs)
    {
        final Pending session = pending.get(sessionId);
        if (null == session || Pending.CHALLENGED != session.state)
        {
            return; // an answer we did not ask for, or a second one: the first decided
        }
        mac.mac(session.nonce, 0, NONCE_LENGTH, expected, 0);
        // MessageDigest.isEqual takes the same time wherever the first wrong byte is
        final boolean right = null != encodedCredentials && MessageDigest.isEqual(expected, encodedCredentials);
        Arrays.fill(session.nonce, (byte)0); // answered once: never again
        session.state = right ? Pending.ADMITTED : Pending.REFUSED;
        session.why = right ? null : "a wrong answer to its challenge";
    }

    @Override
    public void onConnectedSession(final SessionProxy sessionProxy, final long nowMs)
    {
        final Pending session = pending.get(sessionProxy.sessionId());
        if (null == session)
        {
            refuse(sessionProxy, "no connect request seen");
        }
        else if (Pending.REFUSED == session.state)
        {
            refuse(sessionProxy, session.why);
        }
        else if (Pending.TO_CHALLENGE == session.state && sessionProxy.challenge(session.nonce))
        {
            session.state = Pending.CHALLENGED; // if not sent (back pressure), the next call tries again
        }
    }

    @Override
    public void onChallengedSession(final SessionProxy sessionProxy, final long nowMs)
    {
        final Pending session = pending.get(sessionProxy.sessionId());
        if (null == session)
        {
            refuse(sessionProxy, "no connect request seen");
        }
        else if (Pending.ADMITTED == session.state)
        {
            if (sessionProxy.authenticate(PRINCIPAL))
            {
                pending.remove(sessionProxy.sessionId());
            }
        }
        else if (Pending.REFUSED == session.state)
        {
            refuse(sessionProxy, session.why);
        }
        else if (nowMs - session.sinceMs > ANSWER_TIMEOUT_MS)
        {
            refuse(sessionProxy, "no answer to its challenge within " + ANSWER_TIMEOUT_MS + " ms");
        }
    }

    /** @return sessions refused since start, on the consensus module's thread (tests). */
    long refused()
    {
        return refused;
    }

    /** @return sessions waiting for a decision (tests). */
    int pendingCount()
    {
        return pending.size();
    }

    private void refuse(final SessionProxy sessionProxy, final String why)
    {
        pending.remove(sessionProxy.sessionId());
        refused++;
        sessionProxy.reject();
        log.accept(who + ": refused client session " + sessionProxy.sessionId() + ": " + why);
    }

    private void forgetOld(final long nowMs)
    {
        if (pending.isEmpty())
        {
            return;
        }
        final Iterator<Pending> it = pending.values().iterator();
        while (it.hasNext())
        {
            if (nowMs - it.next().sinceMs > FORGET_AFTER_MS)
            {
                it.remove();
            }
        }
    }

    /** A session between its connect request and the decision. */
    private static final class Pending
    {
        static final int TO_CHALLENGE = 1;
        static final int CHALLENGED = 2;
        static final int ADMITTED = 3;
        static final int REFUSED = 4;

        final long sinceMs;
        int state;
        byte[] nonce;
        String why;

        Pending(final long sinceMs)
        {
            this.sinceMs = sinceMs;
        }
    }

    /** Named (not a lambda): the consensus module records the supplier's class name in its mark file. */
    private static final class Supplier implements AuthenticatorSupplier
    {
        private final byte[] clusterSecret;
        private final String who;
        private final Consumer<String> log;

        Supplier(final byte[] clusterSecret, final String who, final Consumer<String> log)
        {
            this.clusterSecret = clusterSecret;
            this.who = who;
            this.log = log;
        }

        @Override
        public Authenticator get()
        {
            return new RegistryAuthenticator(clusterSecret, who, log);
        }
    }
}
