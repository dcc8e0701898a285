// Credential harvesting: the places secrets live on a developer machine or a
// cloud VM. One path alone is medium (tools legitimately read ~/.netrc);
// several different secret stores in one file is what a stealer looks like.

rule LG_YARA_CRED_STORES
{
    meta:
        id = "LG-YARA-CRED-001"
        cwe = "CWE-522"
        severity = "medium"
        description = "Reference to a credential store (cloud keys, SSH keys, tokens)"
        family = "credential-harvest"
    strings:
        $aws = /\.aws[\/\\]+(credentials|config)\b/ ascii
        $ssh = /\.ssh[\/\\]+(id_(rsa|dsa|ecdsa|ed25519)|authorized_keys|known_hosts)\b/ ascii
        $netrc = /[~\/\\"']\.netrc\b/ ascii
        $hf = /\.cache[\/\\]+huggingface[\/\\]+(token|stored_tokens)\b/ ascii
        $gitcred = ".git-credentials" ascii
        $docker = /\.docker[\/\\]+config\.json/ ascii
        $kube = /\.kube[\/\\]+config\b/ ascii
        $gcloud = /gcloud[\/\\]+(credentials\.db|application_default_credentials\.json|access_tokens\.db)/ ascii
        $azure = /\.azure[\/\\]+(accessTokens\.json|msal_token_cache)/ ascii
        $shadow = "/etc/shadow" ascii
        $pypirc = /[~\/\\"']\.pypirc\b/ ascii
        $browser = /(Login Data|Cookies)["'].{0,80}(Chrome|Chromium|Firefox)|(Chrome|Chromium)[\/\\]+[^"'\n]{0,40}(Login Data|Cookies)/ ascii
    condition:
        filesize < 64MB and any of them
}

rule LG_YARA_CRED_MULTI
{
    meta:
        id = "LG-YARA-CRED-002"
        cwe = "CWE-522"
        severity = "high"
        description = "Several different credential stores referenced in one file (stealer pattern)"
        family = "credential-harvest"
    strings:
        $aws = /\.aws[\/\\]+(credentials|config)\b/ ascii
        $ssh = /\.ssh[\/\\]+(id_(rsa|dsa|ecdsa|ed25519)|authorized_keys)\b/ ascii
        $netrc = /[~\/\\"']\.netrc\b/ ascii
        $hf = /\.cache[\/\\]+huggingface[\/\\]+(token|stored_tokens)\b/ ascii
        $gitcred = ".git-credentials" ascii
        $docker = /\.docker[\/\\]+config\.json/ ascii
        $kube = /\.kube[\/\\]+config\b/ ascii
        $gcloud = /gcloud[\/\\]+(credentials\.db|application_default_credentials\.json)/ ascii
        $shadow = "/etc/shadow" ascii
        $pypirc = /[~\/\\"']\.pypirc\b/ ascii
    condition:
        filesize < 64MB and 2 of them
}

rule LG_YARA_CRED_CLOUD_METADATA
{
    meta:
        id = "LG-YARA-CRED-003"
        cwe = "CWE-200"
        severity = "high"
        description = "Cloud instance metadata endpoint (instance credentials)"
        family = "credential-harvest"
    strings:
        $aws = "169.254.169.254" ascii
        $aws6 = "fd00:ec2::254" ascii
        $gcp = "metadata.google.internal" ascii
        $azure = "169.254.169.254/metadata/identity" ascii
        $alibaba = "100.100.100.200" ascii
    condition:
        any of them
}

rule LG_YARA_CRED_ENV_DUMP
{
    meta:
        id = "LG-YARA-CRED-004"
        cwe = "CWE-200"
        severity = "high"
        description = "Secret-bearing environment variables read next to a network send"
        family = "credential-harvest"
    strings:
        $tok1 = /\b(HF_TOKEN|HUGGING_FACE_HUB_TOKEN|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|GITHUB_TOKEN|OPENAI_API_KEY|WANDB_API_KEY)\b/ ascii
        $all = /dict\s*\(\s*os\.environ\s*\)|os\.environ\.copy\(\)|json\.dumps\s*\(\s*(dict\s*\()?\s*os\.environ/ ascii
        $send1 = /requests\.(post|put)\s*\(/ ascii
        $send2 = /urlopen\s*\(/ ascii
        $send3 = /\.send(all)?\s*\(/ ascii
        $send4 = /httpx\.(post|put)\s*\(/ ascii
    condition:
        filesize < 64MB and ($tok1 or $all) and any of ($send*)
}
