package io.vmsched.vm;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@link VmHandle}'s encoding ({@link VmHandleDescriptor}) and {@link VmDriverException}'s one-line message. */
class VmHandleTest
{
    private static final byte[] SPEC = String.join("\0", "qemu-system-x86_64", "-m", "64", "")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);

    @Test
    void aHandleIsDecodedAsItWasEncoded()
    {
        final VmHandle adopted = new VmHandle("wéb-1", 4242, Path.of("/run/vm/web-1.qmp"), SPEC, null);
        final VmHandle copy = new VmHandle("web-1-in", 77, Path.of("/run/vmsched/web-1-in.qmp"), SPEC,
            "tcp:10.0.0.2:40123");
        for (final VmHandle h : new VmHandle[] {adopted, copy})
        {
            final byte[] bytes = h.encode();
            final VmHandle back = VmHandle.decode(bytes);
            assertEquals(h, back);
            assertEquals(h.hashCode(), back.hashCode());
            assertArrayEquals(SPEC, back.spec());
            assertEquals(h.incomingUri(), back.incomingUri());
        }
        final ByteBuffer header = ByteBuffer.wrap(copy.encode()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(VmHandleDescriptor.MAGIC, header.getInt(VmHandleDescriptor.MAGIC_OFFSET));
        assertEquals(77, header.getLong(VmHandleDescriptor.PID_OFFSET));
        assertEquals(VmHandleDescriptor.NO_URI, ByteBuffer.wrap(adopted.encode()).order(ByteOrder.LITTLE_ENDIAN)
            .getInt(VmHandleDescriptor.URI_LENGTH_OFFSET));
    }

    @Test
    void theSpecIsCopiedInAndOut()
    {
        final byte[] spec = SPEC.clone();
        final VmHandle h = new VmHandle("a", 1, Path.of("/a"), spec, null);
        spec[0] = 'X';
        h.spec()[1] = 'Y';
        assertArrayEquals(SPEC, h.spec());
    }

    @Test
    void bytesThatAreNotAHandleAreRefusedInOneLine()
    {
        assertEquals("not a VM handle: 3 bytes without its magic 'VMHD'",
            assertThrows(IllegalArgumentException.class, () -> VmHandle.decode(new byte[3])).getMessage());
        final byte[] bytes = new VmHandle("a", 1, Path.of("/a"), SPEC, null).encode();
        final byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VmHandle.decode(cut)).getMessage()
            .contains("do not add up to its " + cut.length + " bytes"));
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(VmHandleDescriptor.VERSION_OFFSET, 9);
        assertEquals("a VM handle of layout version 9, this build reads 1",
            assertThrows(IllegalArgumentException.class, () -> VmHandle.decode(bytes)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new VmHandle("", 1, Path.of("/a"), SPEC, null));
        assertThrows(IllegalArgumentException.class, () -> new VmHandle("a", 0, Path.of("/a"), SPEC, null));
    }

    @Test
    void aDriversExceptionIsOneLineNamingTheVm()
    {
        final VmDriverException ex = new VmDriverException("web-1", "QEMU refused migrate:\n  GenericError: busy\n");
        assertEquals("vm web-1: QEMU refused migrate: GenericError: busy", ex.getMessage());
        assertEquals("web-1", ex.vm());
        assertEquals("QEMU refused migrate: GenericError: busy", ex.problem());
    }

    @Test
    void finalMigrationStates()
    {
        assertTrue(MigrationState.COMPLETED.isFinal());
        assertTrue(MigrationState.FAILED.isFinal());
        assertTrue(MigrationState.CANCELLED.isFinal());
        assertFalse(MigrationState.ACTIVE.isFinal());
        assertFalse(MigrationState.SETUP.isFinal());
        assertFalse(MigrationState.NONE.isFinal());
    }
}
