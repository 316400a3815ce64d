namespace Mezzo.Agent.Images;

/// <summary>Any failure to get an image onto disk; the message names the image and the cause.</summary>
public sealed class ImageException : Exception
{
    public ImageException()
    {
    }

    public ImageException(string message)
        : base(message)
    {
    }

    public ImageException(string message, Exception? inner)
        : base(message, inner)
    {
    }
}
