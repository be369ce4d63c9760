package io.vmsched.qemu;

import java.io.IOException;

/**
 * QEMU answered a QMP command with an error: its class (e.g. {@code GenericError}, {@code DeviceNotActive},
 * {@code CommandNotFound}) and its description. The connection is still usable. Immutable.
 */
public final class QmpException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final String command;
    private final String errorClass;
    private final String description;

    /**
     * @param command     the command QEMU refused.
     * @param errorClass  QEMU's error class.
     * @param description QEMU's description.
     */
    public QmpException(final String command, final String errorClass, final String description)
    {
        super("QEMU refused " + command + ": " + errorClass + ": " + description);
        this.command = command;
        this.errorClass = errorClass;
        this.description = description;
    }

    /** @return the command QEMU refused. */
    public String command()
    {
        return command;
    }

    /** @return QEMU's error class, e.g. {@code DeviceNotActive}. */
    public String errorClass()
    {
        return errorClass;
    }

    /** @return QEMU's description of the error, as it wrote it. */
    public String description()
    {
        return description;
    }
}
