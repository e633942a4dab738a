import CDrm
import FakeDRMDevice

/// i915_user_extensions(): walks a chain of `struct i915_user_extension`
/// in the caller's memory. An unreadable link is EFAULT, non-zero flags or
/// rsvd EINVAL, a chain deeper than 512 E2BIG; `visit` judges each name.
enum UserExtensions {
    static let maxDepth = 512

    static func walk(_ first: UInt64, _ memory: any UserMemory,
                     _ visit: (_ name: UInt32, _ address: UInt64) throws(DrmError) -> Void) throws(DrmError) {
        var next = first
        var depth = maxDepth
        while next != 0 {
            guard depth > 0 else { throw DrmError.E2BIG }
            depth -= 1
            let ext = try memory.load(i915_user_extension.self, at: next)
            guard ext.flags == 0, ext.rsvd == (0, 0, 0, 0) else { throw DrmError.EINVAL }
            try visit(ext.name, next)
            next = ext.next_extension
        }
    }
}
