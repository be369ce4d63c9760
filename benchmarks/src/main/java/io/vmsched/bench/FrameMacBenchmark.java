package io.vmsched.bench;

import io.vmsched.aeron.FrameCodec;
import io.vmsched.aeron.HmacSha256;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.agrona.concurrent.UnsafeBuffer;

import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * What authenticating a host-to-host frame costs (cluster-aeron's AeronTransport): one message
 * written by a sender and read by a receiver, with the code the transport runs, in one thread and
 * without the network:
 * <ul>
 *     <li>{@code framing}: the baseline, {@link FrameCodec#encode} on the sender, then
 *     {@link FrameCodec#copyIn} and {@link FrameCodec#checkLayout} on the receiver;</li>
 *     <li>{@code framingSignVerify}: the same plus {@link FrameCodec#sign} and {@link FrameCodec#verify}
 *     (HMAC-SHA-256 over {@link java.security.MessageDigest}, allocation-free), as the transport does;</li>
 *     <li>{@code framingJdkMac}: the same with {@link javax.crypto.Mac} for both MACs, which
 *     allocates on every {@code doFinal}: the reason the transport does not use it.</li>
 * </ul>
 * Run: {@code java -jar benchmarks/target/benchmarks.jar FrameMacBenchmark -prof gc}.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FrameMacBenchmark
{
    /** A sender's and a receiver's codecs and one message. */
    @State(Scope.Thread)
    public static class Link
    {
        @Param({ "64", "1024" })
        int payload;

        FrameCodec sender;
        FrameCodec receiver;
        UnsafeBuffer message;
        Mac jdkSign;
        Mac jdkVerify;
        byte[] jdkMac;
        long sequence;

        @Setup(Level.Trial)
        public void setup() throws GeneralSecurityException
        {
            final byte[] secret = new byte[32];
            final SplittableRandom random = new SplittableRandom(3);
            for (int i = 0; i < secret.length; i++)
            {
                secret[i] = (byte)random.nextInt();
            }
            sender = new FrameCodec(HmacSha256.forDataPlane(secret), 4096);
            receiver = new FrameCodec(HmacSha256.forDataPlane(secret), 4096);
            message = new UnsafeBuffer(new byte[payload]);
            for (int i = 0; i < payload; i++)
            {
                message.putByte(i, (byte)random.nextInt());
            }
            jdkSign = Mac.getInstance("HmacSHA256");
            jdkSign.init(new SecretKeySpec(secret, "HmacSHA256"));
            jdkVerify = Mac.getInstance("HmacSHA256");
            jdkVerify.init(new SecretKeySpec(secret, "HmacSHA256"));
            jdkMac = new byte[32];
        }
    }

    @Benchmark
    public boolean framing(final Link link)
    {
        final int length = link.sender.encode(7, 1, 2, ++link.sequence, link.message, 0, link.payload);
        return link.receiver.copyIn(link.sender.buffer(), 0, length) == null && link.receiver.checkLayout(length) == null;
    }

    @Benchmark
    public boolean framingSignVerify(final Link link)
    {
        final int length = link.sender.encode(7, 1, 2, ++link.sequence, link.message, 0, link.payload);
        link.sender.sign(link.payload);
        return link.receiver.copyIn(link.sender.buffer(), 0, length) == null && link.receiver.checkLayout(length) == null &&
            link.receiver.verify();
    }

    @Benchmark
    public boolean framingJdkMac(final Link link) throws ShortBufferException
    {
        final int length = link.sender.encode(7, 1, 2, ++link.sequence, link.message, 0, link.payload);
        final byte[] sent = link.sender.buffer().byteArray();
        final int covered = length - 32;
        link.jdkSign.update(sent, 0, covered);
        link.jdkSign.doFinal(sent, covered);
        final boolean laidOut = link.receiver.copyIn(link.sender.buffer(), 0, length) == null && link.receiver.checkLayout(length) == null;
        final byte[] received = link.receiver.buffer().byteArray();
        link.jdkVerify.update(received, 0, covered);
        link.jdkVerify.doFinal(link.jdkMac, 0);
        int diff = 0;
        for (int i = 0; i < 32; i++)
        {
            diff |= link.jdkMac[i] ^ received[covered + i];
        }
        return laidOut && diff == 0;
    }
}
