package io.vmsched.aeron;

import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HmacSha256Test
{
    @Test
    void rfc4231TestCases()
    {
        // test case 1
        final byte[] key1 = new byte[20];
        java.util.Arrays.fill(key1, (byte)0x0b);
        assertEquals("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", hex(key1, "Hi There".getBytes()));
        // test case 2
        assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            hex("Jefe".getBytes(), "what do ya want for nothing?".getBytes()));
    }

    @Test
    void agreesWithTheJdkMacForManyKeysAndLengths() throws Exception
    {
        final Random random = new Random(5);
        final Mac jdk = Mac.getInstance("HmacSHA256");
        for (int i = 0; i < 300; i++)
        {
            final byte[] key = new byte[1 + random.nextInt(150)]; // shorter and longer than a block
            random.nextBytes(key);
            final byte[] data = new byte[random.nextInt(2000) + 40];
            random.nextBytes(data);
            final int offset = random.nextInt(20);
            final int length = data.length - offset - 32;
            jdk.init(new SecretKeySpec(key, "HmacSHA256"));
            jdk.update(data, offset, length);
            final byte[] expected = jdk.doFinal();
            final HmacSha256 ours = new HmacSha256(key);
            ours.mac(data, offset, length, data, offset + length);
            assertArrayEquals(expected, java.util.Arrays.copyOfRange(data, offset + length, offset + length + 32));
            assertTrue(ours.verify(data, offset, length));
            data[offset + length + random.nextInt(32)] ^= 1 << random.nextInt(8);
            assertFalse(ours.verify(data, offset, length));
        }
    }

    @Test
    void theDataPlaneKeyIsDerivedNotTheSecretItself()
    {
        final byte[] secret = TestSupport.secret(1);
        final byte[] data = new byte[100];
        final byte[] derived = new byte[32];
        final byte[] raw = new byte[32];
        HmacSha256.forDataPlane(secret).mac(data, 0, 100, derived, 0);
        new HmacSha256(secret).mac(data, 0, 100, raw, 0);
        assertFalse(java.util.Arrays.equals(derived, raw));
    }

    private static String hex(final byte[] key, final byte[] data)
    {
        final byte[] out = new byte[32];
        new HmacSha256(key).mac(data, 0, data.length, out, 0);
        return HexFormat.of().formatHex(out);
    }
}
