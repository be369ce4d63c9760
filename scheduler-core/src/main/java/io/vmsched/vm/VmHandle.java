package io.vmsched.vm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

import static io.vmsched.vm.VmHandleDescriptor.*;

/**
 * An external VM as a {@link VmDriver} knows it: its name, the process that runs it, the control socket it is
 * driven through, its launch spec and, for an incoming copy, the URI a source migrates to. Immutable (the spec is
 * copied in and out).
 * <p>
 * The spec is opaque to vmsched: the driver learns it from the running VM ({@link VmDriver#adopt}), vmsched
 * journals it as the VM's state, and a target's driver starts the matching copy from it
 * ({@link VmDriver#prepareIncoming}). {@link #encode} and {@link #decode} write and read a whole handle in the
 * layout of {@link VmHandleDescriptor}, for the journal.
 */
public final class VmHandle
{
    private final String name;
    private final long pid;
    private final Path control;
    private final byte[] spec;
    private final String incomingUri;

    /**
     * @param name        the VM's name, not empty.
     * @param pid         the process that runs it, positive.
     * @param control     its control socket.
     * @param spec        its launch spec, as the driver defines it (copied).
     * @param incomingUri for an incoming copy, the URI a source migrates to; null otherwise.
     * @throws IllegalArgumentException with a one-line message if the name is empty or the pid not positive.
     */
    public VmHandle(final String name, final long pid, final Path control, final byte[] spec, final String incomingUri)
    {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty())
        {
            throw new IllegalArgumentException("a VM's name must not be empty");
        }
        if (pid <= 0)
        {
            throw new IllegalArgumentException("vm " + name + ": a process id must be positive, got " + pid);
        }
        this.name = name;
        this.pid = pid;
        this.control = Objects.requireNonNull(control, "control");
        this.spec = Objects.requireNonNull(spec, "spec").clone();
        this.incomingUri = incomingUri;
    }

    /** @return the VM's name. */
    public String name()
    {
        return name;
    }

    /** @return the id of the process that runs it. */
    public long pid()
    {
        return pid;
    }

    /** @return its control socket. */
    public Path control()
    {
        return control;
    }

    /** @return its launch spec (a copy). */
    public byte[] spec()
    {
        return spec.clone();
    }

    /** @return the URI a source migrates to, for an incoming copy; null otherwise. */
    public String incomingUri()
    {
        return incomingUri;
    }

    /** @return the handle in the layout of {@link VmHandleDescriptor}. */
    public byte[] encode()
    {
        final byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        final byte[] controlBytes = control.toString().getBytes(StandardCharsets.UTF_8);
        final byte[] uriBytes = null == incomingUri ? null : incomingUri.getBytes(StandardCharsets.UTF_8);
        final int length = HEADER_LENGTH + nameBytes.length + controlBytes.length +
            (null == uriBytes ? 0 : uriBytes.length) + spec.length;
        final ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(MAGIC_OFFSET, MAGIC)
            .putInt(VERSION_OFFSET, LAYOUT_VERSION)
            .putLong(PID_OFFSET, pid)
            .putInt(NAME_LENGTH_OFFSET, nameBytes.length)
            .putInt(CONTROL_LENGTH_OFFSET, controlBytes.length)
            .putInt(URI_LENGTH_OFFSET, null == uriBytes ? NO_URI : uriBytes.length)
            .putInt(SPEC_LENGTH_OFFSET, spec.length);
        buffer.position(HEADER_LENGTH).put(nameBytes).put(controlBytes);
        if (null != uriBytes)
        {
            buffer.put(uriBytes);
        }
        buffer.put(spec);
        return buffer.array();
    }

    /**
     * Read a handle written by {@link #encode}.
     *
     * @param bytes the encoded handle.
     * @return the handle.
     * @throws IllegalArgumentException with a one-line message if the bytes are not a handle of this layout.
     */
    public static VmHandle decode(final byte[] bytes)
    {
        final ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < HEADER_LENGTH || buffer.getInt(MAGIC_OFFSET) != MAGIC)
        {
            throw new IllegalArgumentException("not a VM handle: " + bytes.length + " bytes without its magic 'VMHD'");
        }
        final int version = buffer.getInt(VERSION_OFFSET);
        if (version != LAYOUT_VERSION)
        {
            throw new IllegalArgumentException("a VM handle of layout version " + version + ", this build reads " +
                LAYOUT_VERSION);
        }
        final int nameLength = buffer.getInt(NAME_LENGTH_OFFSET);
        final int controlLength = buffer.getInt(CONTROL_LENGTH_OFFSET);
        final int uriLength = buffer.getInt(URI_LENGTH_OFFSET);
        final int specLength = buffer.getInt(SPEC_LENGTH_OFFSET);
        final long total = (long)HEADER_LENGTH + nameLength + controlLength + Math.max(0, uriLength) + specLength;
        if (nameLength < 0 || controlLength < 0 || uriLength < NO_URI || specLength < 0 || total != bytes.length)
        {
            throw new IllegalArgumentException("a VM handle whose lengths (name " + nameLength + ", control " +
                controlLength + ", uri " + uriLength + ", spec " + specLength + ") do not add up to its " +
                bytes.length + " bytes");
        }
        int at = HEADER_LENGTH;
        final String name = new String(bytes, at, nameLength, StandardCharsets.UTF_8);
        at += nameLength;
        final String control = new String(bytes, at, controlLength, StandardCharsets.UTF_8);
        at += controlLength;
        String uri = null;
        if (uriLength != NO_URI)
        {
            uri = new String(bytes, at, uriLength, StandardCharsets.UTF_8);
            at += uriLength;
        }
        final byte[] spec = Arrays.copyOfRange(bytes, at, at + specLength);
        try
        {
            return new VmHandle(name, buffer.getLong(PID_OFFSET), Path.of(control), spec, uri);
        }
        catch (final InvalidPathException ex)
        {
            throw new IllegalArgumentException("vm " + name + ": a VM handle whose control path is not a path: " +
                ex.getMessage(), ex);
        }
    }

    @Override
    public boolean equals(final Object o)
    {
        if (this == o)
        {
            return true;
        }
        if (!(o instanceof VmHandle))
        {
            return false;
        }
        final VmHandle that = (VmHandle)o;
        return pid == that.pid && name.equals(that.name) && control.equals(that.control) &&
            Arrays.equals(spec, that.spec) && Objects.equals(incomingUri, that.incomingUri);
    }

    @Override
    public int hashCode()
    {
        return Objects.hash(name, pid, control, Arrays.hashCode(spec), incomingUri);
    }

    @Override
    public String toString()
    {
        return "VmHandle{name=" + name + ", pid=" + pid + ", control=" + control + ", spec=" + spec.length +
            " bytes" + (null == incomingUri ? "" : ", incomingUri=" + incomingUri) + "}";
    }
}
