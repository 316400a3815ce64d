using System.Runtime.InteropServices;
using System.Text;

namespace Mezzo.Agent.Launcher;

/// <summary>A NULL-terminated <c>char*[]</c> of UTF-8 strings (argv / envp) in one native allocation,
/// so building it costs one malloc instead of one per string.</summary>
internal readonly unsafe struct NativeStringArray : IDisposable
{
    private readonly void* _block;

    private NativeStringArray(void* block) => _block = block;

    public byte** Pointer => (byte**)_block;

    public static NativeStringArray Create(IReadOnlyList<string> values)
    {
        nuint pointerBytes = (nuint)((values.Count + 1) * sizeof(byte*));
        nuint stringBytes = 0;
        for (var i = 0; i < values.Count; i++)
        {
            stringBytes += (nuint)Encoding.UTF8.GetByteCount(values[i]) + 1;
        }

        var block = NativeMemory.Alloc(pointerBytes + stringBytes);
        var pointers = (byte**)block;
        var cursor = (byte*)block + pointerBytes;
        var end = cursor + stringBytes;
        for (var i = 0; i < values.Count; i++)
        {
            pointers[i] = cursor;
            var written = Encoding.UTF8.GetBytes(values[i], new Span<byte>(cursor, (int)(end - cursor)));
            cursor[written] = 0;
            cursor += written + 1;
        }

        pointers[values.Count] = null;
        return new NativeStringArray(block);
    }

    public void Dispose() => NativeMemory.Free(_block);
}
