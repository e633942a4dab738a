/// A small JSON reader for device profiles (no Foundation in the model):
/// values keep their numbers' text, so 64-bit sizes stay exact, and errors
/// say where (line and column) and what was expected.
public indirect enum JSONValue: Equatable, Sendable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    /// The number as written ("39497", "1.5e3").
    case number(String)
    case bool(Bool)
    case null

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.array(let x), .array(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.bool(let x), .bool(let y)): x == y
        case (.null, .null): true
        default: false
        }
    }

    /// What a message calls this kind of value.
    public var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    public struct SyntaxError: Error, CustomStringConvertible, Equatable {
        public let line: Int, column: Int
        public let message: String
        public var description: String { "line \(line), column \(column): \(message)" }
    }

    /// Parses a whole document (one value, white space around it).
    public static func parse(_ text: String) throws(SyntaxError) -> JSONValue {
        var p = Parser(bytes: Array(text.utf8))
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.at >= p.bytes.count else { throw p.error("unexpected text after the value") }
        return v
    }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        func error(_ message: String) -> SyntaxError {
            var line = 1, column = 1
            for b in bytes[..<min(at, bytes.count)] {
                if b == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
            }
            return SyntaxError(line: line, column: column, message: message)
        }

        var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { at += 1 }
        }

        mutating func expect(_ c: Character) throws(SyntaxError) {
            guard peek == c.asciiValue else { throw error("expected '\(c)'") }
            at += 1
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONValue {
            guard depth < 64 else { throw error("nested too deeply") }
            switch peek {
            case UInt8(ascii: "{"):
                at += 1
                var members: [(String, JSONValue)] = []
                skipSpace()
                if peek == UInt8(ascii: "}") { at += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard peek == UInt8(ascii: "\"") else { throw error("expected a key in quotes") }
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    skipSpace()
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    if peek == UInt8(ascii: ",") { at += 1; continue }
                    guard peek == UInt8(ascii: "}") else { throw error("expected ',' or '}' in an object") }
                    at += 1
                    return .object(members)
                }
            case UInt8(ascii: "["):
                at += 1
                var items: [JSONValue] = []
                skipSpace()
                if peek == UInt8(ascii: "]") { at += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    if peek == UInt8(ascii: ",") { at += 1; continue }
                    guard peek == UInt8(ascii: "]") else { throw error("expected ',' or ']' in an array") }
                    at += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try word("true", .bool(true))
            case UInt8(ascii: "f"): return try word("false", .bool(false))
            case UInt8(ascii: "n"): return try word("null", .null)
            case .some(let c) where c == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c):
                let start = at
                at += 1
                while let c = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || c == UInt8(ascii: ".")
                        || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                    at += 1
                }
                return .number(String(decoding: bytes[start..<at], as: UTF8.self))
            case nil: throw error("unexpected end of the file")
            default: throw error("expected a value")
            }
        }

        mutating func word(_ w: String, _ v: JSONValue) throws(SyntaxError) -> JSONValue {
            let u = Array(w.utf8)
            guard at + u.count <= bytes.count, Array(bytes[at..<at + u.count]) == u else { throw error("expected a value") }
            at += u.count
            return v
        }

        mutating func string() throws(SyntaxError) -> String {
            at += 1 // the opening quote
            var out: [UInt8] = []
            while true {
                guard let c = peek else { throw error("unterminated string") }
                at += 1
                switch c {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let e = peek else { throw error("unterminated string") }
                    at += 1
                    switch e {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard at + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(v) else { throw error("bad \\u escape") }
                        at += 4
                        out += Array(String(Character(scalar)).utf8)
                    default: out.append(e)
                    }
                case 0..<0x20: throw error("control character in a string")
                default: out.append(c)
                }
            }
        }
    }
}
