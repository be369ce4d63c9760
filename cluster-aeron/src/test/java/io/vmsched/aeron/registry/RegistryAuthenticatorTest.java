package io.vmsched.aeron.registry;

import io.aeron.security.SessionProxy;
import io.vmsched.aeron.HmacSha256;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The challenge and response, driven as the consensus module drives an {@link io.aeron.security.Authenticator}
 * (connect request, connected session, challenge response, challenged session), with a recording
 * {@link SessionProxy}.
 */
class RegistryAuthenticatorTest
{
    private static final byte[] SECRET = "a cluster secret of some length\n".getBytes(StandardCharsets.US_ASCII);

    private final List<String> log = new ArrayList<>();
    private final RegistryAuthenticator authenticator = new RegistryAuthenticator(SECRET, "member 0", log::add);
    private long now = 1_000;

    @Test
    void theRightAnswerIsAdmittedAndEachSessionGetsItsOwnNonce()
    {
        final RegistryCredentials credentials = new RegistryCredentials(SECRET);
        final Proxy first = connect(1, credentials.encodedCredentials());
        final Proxy second = connect(2, credentials.encodedCredentials());
        assertNotNull(first.challenge);
        assertEquals(RegistryAuthenticator.NONCE_LENGTH, first.challenge.length);
        assertFalse(Arrays.equals(first.challenge, second.challenge), "a fresh nonce per session");

        answer(first, credentials.onChallenge(first.challenge));
        assertArrayEquals(RegistryAuthenticator.PRINCIPAL, first.principal);
        assertFalse(first.rejected);
        answer(second, credentials.onChallenge(second.challenge));
        assertArrayEquals(RegistryAuthenticator.PRINCIPAL, second.principal);
        assertEquals(0, authenticator.pendingCount());
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void aCapturedAnswerDoesNotOpenAnotherSession()
    {
        final RegistryCredentials credentials = new RegistryCredentials(SECRET);
        final Proxy first = connect(1, credentials.encodedCredentials());
        final byte[] captured = credentials.onChallenge(first.challenge);
        answer(first, captured);
        assertNotNull(first.principal);

        // someone who saw the handshake presents the same answer: the new session's nonce differs
        final Proxy replay = connect(2, RegistryAuthenticator.CONNECT_CREDENTIALS);
        answer(replay, captured);
        assertTrue(replay.rejected);
        assertNull(replay.principal);
        assertEquals(1, authenticator.refused());
        assertTrue(log.get(0).startsWith("member 0: refused client session 2: a wrong answer"), log.toString());
    }

    @Test
    void aWrongSecretNoCredentialsOrAnotherSchemeAreRefused()
    {
        final RegistryCredentials wrong = new RegistryCredentials("another secret".getBytes(StandardCharsets.US_ASCII));
        final Proxy wrongSecret = connect(1, wrong.encodedCredentials());
        answer(wrongSecret, wrong.onChallenge(wrongSecret.challenge));
        assertTrue(wrongSecret.rejected);

        // no credentials (Aeron's NullCredentialsSupplier) or another scheme: refused without a challenge
        final Proxy none = connect(2, new byte[0]);
        assertNull(none.challenge);
        assertTrue(none.rejected);
        final Proxy other = connect(3, "user:password".getBytes(StandardCharsets.US_ASCII));
        assertNull(other.challenge);
        assertTrue(other.rejected);
        assertEquals(3, authenticator.refused());
        assertEquals(0, authenticator.pendingCount());
        assertEquals(3, log.size(), log.toString());
        assertTrue(log.get(1).endsWith("no credentials"), log.get(1));
    }

    @Test
    void onlyTheFirstAnswerCountsAndASilentClientIsRefusedAfterItsTimeout()
    {
        final RegistryCredentials credentials = new RegistryCredentials(SECRET);
        final Proxy session = connect(1, credentials.encodedCredentials());
        final byte[] right = credentials.onChallenge(session.challenge);
        authenticator.onChallengeResponse(1, new byte[HmacSha256.MAC_LENGTH], now);
        authenticator.onChallengeResponse(1, right, now); // too late: the nonce is spent
        authenticator.onChallengedSession(session, now);
        assertTrue(session.rejected);

        final Proxy silent = connect(2, credentials.encodedCredentials());
        authenticator.onChallengedSession(silent, now + RegistryAuthenticator.ANSWER_TIMEOUT_MS);
        assertFalse(silent.rejected, "still within its time");
        authenticator.onChallengedSession(silent, now + RegistryAuthenticator.ANSWER_TIMEOUT_MS + 1);
        assertTrue(silent.rejected);
    }

    @Test
    void aChallengeNotSentIsSentOnTheNextCallAndForgottenSessionsDoNotPileUp()
    {
        final RegistryCredentials credentials = new RegistryCredentials(SECRET);
        authenticator.onConnectRequest(1, credentials.encodedCredentials(), now);
        final Proxy proxy = new Proxy(1);
        proxy.refuseChallenge = true; // back pressure on the egress
        authenticator.onConnectedSession(proxy, now);
        assertNull(proxy.challenge);
        proxy.refuseChallenge = false;
        authenticator.onConnectedSession(proxy, now);
        assertNotNull(proxy.challenge);

        // the consensus module timed session 1 out without telling us: it is forgotten later
        assertEquals(1, authenticator.pendingCount());
        authenticator.onConnectRequest(2, credentials.encodedCredentials(), now + RegistryAuthenticator.FORGET_AFTER_MS + 1);
        assertEquals(1, authenticator.pendingCount());
    }

    @Test
    void theAnswerIsAnHmacUnderAKeyOfItsOwnAndOddChallengesGetNoAnswer() throws Exception
    {
        final RegistryCredentials credentials = new RegistryCredentials(SECRET);
        final byte[] nonce = new byte[RegistryAuthenticator.NONCE_LENGTH];
        Arrays.fill(nonce, (byte)7);
        final Mac jdk = Mac.getInstance("HmacSHA256");
        jdk.init(new SecretKeySpec(SECRET, "HmacSHA256"));
        final byte[] key = jdk.doFinal("vmsched registry credentials v1".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals(key, RegistryAuthenticator.key(SECRET));
        jdk.init(new SecretKeySpec(key, "HmacSHA256"));
        assertArrayEquals(jdk.doFinal(nonce), credentials.onChallenge(nonce));
        // not the bare HMAC of the secret: an answer never doubles as a MAC of another use of the secret
        jdk.init(new SecretKeySpec(SECRET, "HmacSHA256"));
        assertFalse(Arrays.equals(jdk.doFinal(nonce), credentials.onChallenge(nonce)));

        assertEquals(0, credentials.onChallenge(new byte[5]).length);
        assertEquals(0, credentials.onChallenge("vmsched aeron data plane v1".getBytes(StandardCharsets.US_ASCII)).length);
        assertThrows(IllegalArgumentException.class, () -> new RegistryCredentials(new byte[0]));
    }

    private Proxy connect(final long sessionId, final byte[] credentials)
    {
        authenticator.onConnectRequest(sessionId, credentials, now);
        final Proxy proxy = new Proxy(sessionId);
        authenticator.onConnectedSession(proxy, now);
        return proxy;
    }

    private void answer(final Proxy proxy, final byte[] answer)
    {
        now += 5;
        authenticator.onChallengeResponse(proxy.sessionId, answer, now);
        authenticator.onChallengedSession(proxy, now);
    }

    /** What the consensus module's proxy would have done for one session. */
    private static final class Proxy implements SessionProxy
    {
        final long sessionId;
        byte[] challenge;
        byte[] principal;
        boolean rejected;
        boolean refuseChallenge;

        Proxy(final long sessionId)
        {
            this.sessionId = sessionId;
        }

        @Override
        public long sessionId()
        {
            return sessionId;
        }

        @Override
        public boolean challenge(final byte[] encodedChallenge)
        {
            if (refuseChallenge)
            {
                return false;
            }
            challenge = encodedChallenge.clone();
            return true;
        }

        @Override
        public boolean authenticate(final byte[] encodedPrincipal)
        {
            principal = encodedPrincipal;
            return true;
        }

        @Override
        public void reject()
        {
            rejected = true;
        }
    }
}
