package io.vmsched.aeron.registry;

import io.aeron.security.CredentialsSupplier;
import io.vmsched.aeron.HmacSha256;

import java.util.Arrays;

/**
 * A client's side of {@link RegistryAuthenticator}: it connects with the scheme's name and answers a
 * challenge with {@code HMAC-SHA-256(key, nonce)}, the key derived from the cluster secret. It answers
 * only a challenge of exactly {@link RegistryAuthenticator#NONCE_LENGTH} bytes (anything else gets an
 * empty answer, which no member accepts).
 * <p>
 * <b>Note:</b> Not threadsafe: the client's connecting thread calls it.
 */
public final class RegistryCredentials implements CredentialsSupplier
{
    private static final byte[] NO_ANSWER = new byte[0];

    private final HmacSha256 mac;

    /**
     * @param clusterSecret the cluster's secret (not kept: a key derived from it is).
     */
    public RegistryCredentials(final byte[] clusterSecret)
    {
        final byte[] key = RegistryAuthenticator.key(clusterSecret);
        mac = new HmacSha256(key);
        Arrays.fill(key, (byte)0);
    }

    @Override
    public byte[] encodedCredentials()
    {
        return RegistryAuthenticator.CONNECT_CREDENTIALS.clone();
    }

    @Override
    public byte[] onChallenge(final byte[] encodedChallenge)
    {
        if (null == encodedChallenge || RegistryAuthenticator.NONCE_LENGTH != encodedChallenge.length)
        {
            return NO_ANSWER;
        }
        final byte[] answer = new byte[HmacSha256.MAC_LENGTH];
        mac.mac(encodedChallenge, 0, encodedChallenge.length, answer, 0);
        return answer;
    }
}
