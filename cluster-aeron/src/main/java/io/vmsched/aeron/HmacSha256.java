package io.vmsched.aeron;

import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * HMAC-SHA-256 (RFC 2104) over the JDK's {@code SHA-256} {@link MessageDigest}, computed into
 * preallocated arrays: nothing is allocated per message. {@code javax.crypto.Mac} gives the same
 * bytes (a test checks it) but its {@code doFinal(byte[], int)} allocates the MAC and copies it
 * (48 B per message on JDK 17, measured), which the transport's hot path must not do.
 * <p>
 * <b>Note:</b> Not threadsafe: one instance per thread that signs or verifies.
 */
public final class HmacSha256
{
    /** Bytes in a MAC. */
    public static final int MAC_LENGTH = 32;
    private static final int BLOCK_LENGTH = 64;
    private static final byte IPAD = 0x36;
    private static final byte OPAD = 0x5c;
    private static final byte[] DATA_PLANE_LABEL = "vmsched aeron data plane v1".getBytes(StandardCharsets.US_ASCII);

    private final MessageDigest digest;
    private final byte[] innerPad = new byte[BLOCK_LENGTH];
    private final byte[] outerPad = new byte[BLOCK_LENGTH];
    private final byte[] innerHash = new byte[MAC_LENGTH];
    private final byte[] computed = new byte[MAC_LENGTH];

    /**
     * @param key the key (any length; longer than a block is hashed first, as RFC 2104 says).
     */
    public HmacSha256(final byte[] key)
    {
        digest = sha256();
        final byte[] k = key.length > BLOCK_LENGTH ? digest.digest(key) : key;
        for (int i = 0; i < BLOCK_LENGTH; i++)
        {
            final byte b = i < k.length ? k[i] : 0;
            innerPad[i] = (byte)(b ^ IPAD);
            outerPad[i] = (byte)(b ^ OPAD);
        }
    }

    /**
     * The data plane's key, derived from the cluster secret so that the same secret can key other
     * uses (the registry's credentials) without one MAC ever standing for another.
     *
     * @param clusterSecret the cluster's secret bytes (see {@link ClusterSecret}).
     * @return a MAC keyed for host-to-host frames.
     */
    public static HmacSha256 forDataPlane(final byte[] clusterSecret)
    {
        if (clusterSecret.length == 0)
        {
            throw new IllegalArgumentException("the cluster secret is empty");
        }
        final byte[] key = new byte[MAC_LENGTH];
        new HmacSha256(clusterSecret).mac(DATA_PLANE_LABEL, 0, DATA_PLANE_LABEL.length, key, 0);
        final HmacSha256 mac = new HmacSha256(key);
        Arrays.fill(key, (byte)0);
        return mac;
    }

    /**
     * Compute the MAC of {@code data[offset, offset + length)} into {@code out[outOffset, outOffset + 32)}.
     *
     * @param data      the bytes covered.
     * @param offset    where they start.
     * @param length    how many.
     * @param out       where the MAC goes (may be {@code data}, after the covered range).
     * @param outOffset where in {@code out}.
     */
    public void mac(final byte[] data, final int offset, final int length, final byte[] out, final int outOffset)
    {
        try
        {
            digest.update(innerPad, 0, BLOCK_LENGTH);
            digest.update(data, offset, length);
            digest.digest(innerHash, 0, MAC_LENGTH);
            digest.update(outerPad, 0, BLOCK_LENGTH);
            digest.update(innerHash, 0, MAC_LENGTH);
            digest.digest(out, outOffset, MAC_LENGTH);
        }
        catch (final DigestException ex)
        {
            throw new IllegalStateException(ex); // cannot happen: the output always has 32 bytes of room
        }
    }

    /**
     * Check the MAC that follows {@code data[offset, offset + length)}, in time that does not depend
     * on where the first wrong byte is (no timing oracle for a forger).
     *
     * @param data   the bytes covered, followed by the MAC to check.
     * @param offset where they start.
     * @param length how many are covered (the MAC starts at {@code offset + length}).
     * @return true if the MAC is right.
     */
    public boolean verify(final byte[] data, final int offset, final int length)
    {
        mac(data, offset, length, computed, 0);
        int diff = 0;
        final int macAt = offset + length;
        for (int i = 0; i < MAC_LENGTH; i++)
        {
            diff |= computed[i] ^ data[macAt + i];
        }
        return diff == 0;
    }

    private static MessageDigest sha256()
    {
        try
        {
            return MessageDigest.getInstance("SHA-256");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("this JDK has no SHA-256", ex); // every Java SE has it
        }
    }
}
