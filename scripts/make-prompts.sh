#!/usr/bin/env bash
# Generate deskline's sample prompts with espeak-ng and sox.
#
#   scripts/make-prompts.sh [OUTDIR]      (default: the source tree's etc/prompts)
#
# Writes OUTDIR/{he,en}/NAME.wav for every prompt etc/deskline.conf names, as 8000 Hz mono 16-bit
# PCM WAV — the only format prompt_load() accepts (G.711 runs at 8 kHz, RFC 3551 §4.5.14). The
# results are committed, so building or running deskline never needs espeak-ng; run this again only
# after changing a text below. They are synthetic stand-ins: record real prompts with the same
# names and format for production.
#
# espeak-ng reads unpointed Hebrew with few vowels and says no Hebrew digits, so the Hebrew texts
# spell the keys as words ("הקישו אחת"). "For English, press 9" is said in English on the Hebrew
# greeting: the callers who need it may not follow Hebrew.
#
# Output is reproducible: sox runs without dither (-D), so the same text gives the same bytes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
outdir=${1:-"$(dirname "$here")/etc/prompts"}

# Longest prompt allowed, seconds: a caller waits through a greeting before the digit timer starts.
max_seconds=15
# espeak-ng speaking rate, words per minute (its default, 175, is hurried over a phone line).
wpm=160

for tool in espeak-ng sox soxi; do
	if ! command -v "$tool" >/dev/null; then
		echo "make-prompts: $tool not found (Debian: apt-get install espeak-ng sox)" >&2
		exit 1
	fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# speak VOICE TEXT FILE: at espeak-ng's own rate (22050 Hz), converted once at the end. The
# half second of silence espeak-ng leaves at the end is cut: it would only delay the digit timer.
speak() {
	espeak-ng -v "$1" -s "$wpm" -w "$work/raw.wav" -- "$2"
	sox -D "$work/raw.wav" "$3" reverse silence 1 0.02 0.1% reverse
}

# finish OUT IN...: join the pieces with a short pause, to 8000 Hz mono 16-bit, peak at -3 dBFS.
finish() {
	local out=$1
	shift
	local parts=() i=0
	for piece in "$@"; do
		if ((i > 0)); then
			sox -D -n -r 22050 -c 1 -b 16 "$work/gap$i.wav" trim 0 0.4
			parts+=("$work/gap$i.wav")
		fi
		parts+=("$piece")
		i=$((i + 1))
	done
	# headroom first (espeak-ng peaks near full scale and resampling overshoots), norm after
	# rate: resampling moves the peak, so the level is set on what is sent
	sox -D "${parts[@]}" -r 8000 -c 1 -b 16 -e signed-integer "$out" gain -6 rate 8000 norm -3
	local seconds
	seconds=$(soxi -D "$out")
	if awk -v s="$seconds" -v m="$max_seconds" 'BEGIN { exit !(s > m) }'; then
		echo "make-prompts: $out is ${seconds}s, longer than ${max_seconds}s" >&2
		exit 1
	fi
	printf "%-34s %5.1fs\n" "${out#"$outdir"/}" "$seconds"
}

# prompt LANG NAME TEXT [VOICE TEXT]...: one prompt, optionally in several voices.
prompt() {
	local lang=$1 name=$2
	shift 2
	local pieces=() n=0
	speak "$lang" "$1" "$work/$lang-$name-$n.wav"
	pieces+=("$work/$lang-$name-$n.wav")
	shift
	while (($# >= 2)); do
		n=$((n + 1))
		speak "$1" "$2" "$work/$lang-$name-$n.wav"
		pieces+=("$work/$lang-$name-$n.wav")
		shift 2
	done
	mkdir -p "$outdir/$lang"
	finish "$outdir/$lang/$name.wav" "${pieces[@]}"
}

# Hebrew. The four choices are Procedure 46 §2.1-2.3 (the payment center) and §5 (the department).
prompt he main-greeting \
	"שלום, הגעתם למחלקת הגבייה. לתשלום ממוחשב, הקישו אחת. לתשלום בעזרת נציג, שתיים. לבירורים מול נציג, שלוש. למחלקת הגבייה, ארבע." \
	en "For English, press 9."
prompt he invalid "בחירה לא חוקית."
prompt he no-input "לא קיבלנו את בחירתכם."
prompt he goodbye "תודה שפניתם אלינו, להתראות."
prompt he try-later "כל הקווים תפוסים כעת, אנא נסו שוב מאוחר יותר."
prompt he transfer-callcenter "אתם מועברים למוקד המועצה."

# English.
prompt en main-greeting \
	"Hello, you have reached the council's collection department. For automated payment, press 1. To pay with an agent, press 2. For questions to an agent, press 3. For the collection department, press 4."
prompt en invalid "Invalid choice."
prompt en no-input "We did not receive your choice."
prompt en goodbye "Thank you for calling. Goodbye."
prompt en try-later "All lines are busy. Please try again later."
prompt en transfer-callcenter "Transferring you to the council call center."
