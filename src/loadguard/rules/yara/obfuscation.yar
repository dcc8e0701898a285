// Obfuscated execution: code decoded from an encoded literal and executed, or
// a dangerous callable assembled from pieces so that no plain name shows.
// The native analyzer decodes these properly; this is the byte-level net that
// also covers non-Python files and files the AST cannot parse.

rule LG_YARA_OBF_DECODE_EXEC
{
    meta:
        id = "LG-YARA-OBF-001"
        cwe = "CWE-506, CWE-94"
        severity = "critical"
        description = "Encoded or compressed payload decoded and executed (or handed to a shell) in one expression"
        family = "obfuscation"
    strings:
        // exec(zlib.decompress(...)), exec(b64decode(...)), exec(b.b64decode(...)),
        // exec(__import__('base64').b64decode(...)), eval(compile(bytes.fromhex(...), ...))
        $a = /\b(exec|eval)\s*\(\s*(compile\s*\(\s*)?(__import__\s*\(\s*["'](zlib|lzma|bz2|gzip|base64|binascii|codecs|marshal)["']\s*\)\s*\.\s*|\w{1,20}\.\s*)?(decompress|b64decode|b32decode|b16decode|b85decode|a85decode|urlsafe_b64decode|decodebytes|fromhex|unhexlify|a2b_base64|a2b_hex)\s*\(/ ascii
        $a2 = /\b(exec|eval)\s*\(\s*(compile\s*\(\s*)?(codecs\.decode|marshal\.loads|__import__\s*\(\s*["'](codecs|marshal)["']\s*\)\s*\.\s*(decode|loads))\s*\(/ ascii
        $b = /\b(exec|eval)\s*\(\s*["'][^"'\n]{0,40}["']\s*\.join\s*\(\s*(map\s*\(\s*)?chr\b/ ascii
        $c = /\b(exec|eval)\s*\(\s*codecs\.decode\s*\([^)]{0,4000}["']rot[_-]?13["']/ ascii
        // exec(bytes([112, 114, ...]).decode()), exec('...'[::-1])
        $d = /\b(exec|eval)\s*\(\s*(bytes|bytearray)\s*\(\s*\[\s*[0-9]{1,3}\s*,/ ascii
        $e = /\b(exec|eval)\s*\(\s*["'][^"'\n]{1,4000}["']\s*\[\s*::\s*-1\s*\]/ ascii
        // exec(any_decoder(b'<120+ chars of base64/hex>')), whatever the decoder is called
        // code = b64decode(...); exec(code): decoded into a variable and executed a few lines on
        $via_var = /\b(b64decode|b32decode|b85decode|a85decode|urlsafe_b64decode|decompress|fromhex|unhexlify|marshal\.loads)\s*\([\s\S]{0,300}[^.\w](exec|eval)\s*\(\s*(compile\s*\(\s*)?[\w.]{1,40}\s*[,)]/ ascii
        // os.system(base64.b64decode(...)), subprocess.run(b64decode(...), shell=True)
        $g = /\b(os\.system|os\.popen|subprocess\.(run|call|Popen|check_call|check_output|getoutput))\s*\(\s*(__import__\s*\(\s*["']base64["']\s*\)\s*\.\s*|\w{1,20}\.)?(b64decode|b32decode|b16decode|urlsafe_b64decode|fromhex|unhexlify|decompress)\s*\(/ ascii
        $f = /\b(exec|eval)\s*\(\s*([\w.]{1,30}\s*\(\s*){1,3}[bu]?["'][A-Za-z0-9+\/=\\]{120}/ ascii
    condition:
        filesize < 64MB and any of them
}

rule LG_YARA_OBF_DYNAMIC_IMPORT
{
    meta:
        id = "LG-YARA-OBF-002"
        cwe = "CWE-506"
        severity = "high"
        description = "Module or callable name assembled at run time to hide it (getattr(__import__(...)), __builtins__ lookup)"
        family = "obfuscation"
    strings:
        $imp_concat = /__import__\s*\(\s*["'][\w.]{0,12}["']\s*\+\s*["']/ ascii
        $imp_decode = /__import__\s*\(\s*(bytes\.fromhex|codecs\.decode|base64\.\w+decode|["'][^"'\n]{0,4}["']\s*\.join|["'][\w.]*["']\s*\[\s*::\s*-1\s*\])/ ascii
        $attr_concat = /getattr\s*\(\s*(__import__|importlib\.import_module)\s*\([^)]{1,80}\)\s*,\s*["']\w{1,12}["']\s*\+/ ascii
        $attr_decode = /getattr\s*\(\s*(__import__|importlib\.import_module)\s*\([^)]{1,80}\)\s*,\s*(bytes\.fromhex|codecs\.decode|["'][^"'\n]{0,4}["']\s*\.join|base64\.\w+decode|["']\w{1,20}["']\s*\[\s*::\s*-1\s*\])/ ascii
        $builtins = /__builtins__\s*\)?\s*\)?\s*(\.__dict__)?\s*\[\s*["'](exec|eval|__import__|compile)["']\s*\]/ ascii
        $builtins2 = /getattr\s*\(\s*(__builtins__|builtins)\s*,\s*["'](exec|eval|__import__)["']\s*\)/ ascii
        // __import__('builtins').exec(...), vars(__builtins__)['ex' + 'ec']
        $builtins3 = /__import__\s*\(\s*["'](builtins|__builtin__)["']\s*\)\s*\.\s*(exec|eval|compile)\s*\(/ ascii
        $builtins4 = /(__builtins__|builtins)\s*\)?\s*(\.__dict__)?\s*\[\s*["']\w{1,8}["']\s*\+\s*["']/ ascii
        $globals = /globals\s*\(\s*\)\s*\[\s*["'](exec|eval|__import__)["']\s*\]/ ascii
    condition:
        filesize < 64MB and any of them
}

rule LG_YARA_OBF_SHELL_DECODE_EXEC
{
    meta:
        id = "LG-YARA-OBF-003"
        cwe = "CWE-506, CWE-78"
        severity = "critical"
        description = "Encoded shell payload decoded and run (base64/xxd/rev/printf escapes into a shell, PowerShell -EncodedCommand)"
        family = "obfuscation"
    strings:
        // ... | base64 -d [| gunzip] | sh ; base64 --decode <<< ... | bash ; openssl enc -d -base64 | sh
        $pipe = /(\bbase(64|32)\s+(-[a-zA-Z]*[dD]\b|--decode)|\bopenssl\s+(enc\s+)?(-[a-z0-9]+\s+){0,3}-(base64|a)\b|\bxxd\s+(-[a-z]+\s+)*-r|\|\s*rev\b)[^\n]{0,120}\|\s*(sudo\s+)?(\/usr)?(\/bin\/)?(ba|z|da|k)?sh\b/ ascii
        // sh -c "$(echo ... | base64 -d)", eval "$(... | rev)", eval $(base64 -d <<< ...)
        $subst = /(\b(ba|z|da)?sh\s+-c|\beval|\bpython[0-9.]*\s+-c)\s+(\\?["'])?(\$\(|`)[^\n)`]{0,400}\b(base(64|32)\s+(-[a-zA-Z]*[dD]\b|--decode)|xxd\s+(-[a-z]+\s+)*-r|rev\b|openssl\s+(enc\s+)?(-[a-z0-9]+\s+){0,3}-(base64|a)\b)/ ascii
        // printf '\x63\x75...' | sh ; sh -c "$(printf '\143...')"
        $printf = /\bprintf\s+(\\?["'])?(\\\\?(x[0-9a-fA-F]{2}|[0-7]{3})){4}[^\n]{0,400}\|\s*(\/bin\/)?(ba|z|da)?sh\b/ ascii
        $printf_subst = /(\b(ba|z|da)?sh\s+-c|\beval)\s+(\\?["'])?(\$\(|`)\s*printf\s+(\\?["'])?(\\\\?(x[0-9a-fA-F]{2}|[0-7]{3})){4}/ ascii
        // $IFS standing in for the space after a command or before its path/URL argument:
        // cat${IFS}/etc/passwd, curl$IFS$9http://..., ${PATH:0:1}bin${PATH:0:1}sh
        // (not "configure${IFS}build", a word list joined with IFS)
        $ifs = /\b(cat|curl|wget|nc|ncat|bash|sh|rm|chmod|python[0-9.]*|perl|echo|base64|id|whoami|uname|ping)\$(\{IFS\}|IFS\b)|\$IFS\$[0-9]|\$\{IFS\}(\/|https?:)/ ascii
        $pathcut = /\$\{PATH:0:1\}/ ascii
        // powershell -enc / -EncodedCommand <base64>
        $ps_enc = /\bpowershell(\.exe)?(\s[^\n]{0,120})?\s-(e|ec|en|enc|enco|encod|encode|encoded|encodedc|encodedco|encodedcom|encodedcomm|encodedcomma|encodedcomman|encodedcommand)\s+["']?[A-Za-z0-9+\/]{20,}/ ascii nocase
        $ps_b64 = /\b(iex|Invoke-Expression)\s*\(?\s*\[\s*(System\.)?Text\.Encoding\]::\w+\.GetString\s*\(\s*\[\s*(System\.)?Convert\]::FromBase64String/ ascii nocase
    condition:
        filesize < 64MB and any of them
}
