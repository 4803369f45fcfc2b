# Lonceng — katalog Bahasa Indonesia.
# Jenis notifikasi: nilai pesan adalah teks daftar lonceng, `.title` adalah judul toast.

## Tab Umum

reminder = Pengingat: { $object_type ->
        [deal] deal
        [ticket] tiket
       *[task] tugas
    } { $object_name }
    .title = Pengingat
mention = { $actor } menyebut Anda di { $target ->
        [deal] deal { $object_name }
        [ticket] tiket { $object_name }
        [task_detail] Detail/Rencana tugas { $object_name }
       *[task] tugas { $object_name }
    }
    .title = Sebutan baru
deal-owner-assigned = { $actor } menjadikan Anda pemilik deal { $deal_name }
    .title = Deal ditugaskan kepada Anda
deal-owner-auto-assigned = Anda otomatis ditugaskan sebagai pemilik deal { $deal_name } (dari { $source ->
        [chatbot] chatbot
       *[inbox] Inbox
    })
    .title = Deal ditugaskan kepada Anda
ticket-assigned = { $actor } menugaskan tiket { $ticket_name } kepada Anda
    .title = Tiket ditugaskan kepada Anda
task-assigned = { $actor } menugaskan tugas { $task_name } kepada Anda
    .title = Tugas ditugaskan kepada Anda
task-checklist-item-assigned = { $actor } menugaskan item checklist { $item_name } di tugas { $task_name } kepada Anda
    .title = Item checklist ditugaskan kepada Anda
ticket-status-changed = { $actor } memindahkan tiket { $ticket_name } ke { $status }
    .title = Tiket diperbarui
task-status-changed = { $actor } memindahkan tugas { $task_name } ke { $status }
    .title = Tugas diperbarui
export-ready = Ekspor { $count } { $object_type ->
        [deals] deal
        [tickets] tiket
        [tasks] tugas
        [contacts] kontak
        [companies] perusahaan
        [products] produk
       *[other] data
    } Anda siap diunduh
    .title = Ekspor siap
import-processed = Impor { $object_type ->
        [deals] deal
        [tickets] tiket
        [tasks] tugas
        [contacts] kontak
        [companies] perusahaan
        [products] produk
       *[other] data
    } selesai: { $success_count } baris berhasil, { $failure_count ->
        [0] tidak ada yang gagal
       *[other] { $failure_count } gagal
    }
    .title = Impor diproses
automation-result = Aksi otomatis { $rule_name } { $outcome ->
        [failed] gagal dijalankan pada
       *[succeeded] dijalankan pada
    } { $object_name }
    .title = Aksi otomatis
crm-notice = { $description }
    .title = Qontak CRM · { $origin }

## Tab Inbox

conversation-assigned = { $actor } menugaskan percakapan dengan { $contact_name } di { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    } kepada Anda
    .title = Percakapan ditugaskan
conversation-resolved = { $actor } menyelesaikan percakapan dengan { $contact_name } di { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
    .title = Percakapan diselesaikan
contact-blocked = { $actor } memblokir kontak { $contact_name }
    .title = Kontak diblokir
contact-unblocked = { $actor } membuka blokir kontak { $contact_name }
    .title = Blokir kontak dibuka

## Tab Persetujuan

deal-approval-requested = { $actor } meminta persetujuan Anda untuk deal { $deal_name } ({ $amount })
    .title = Permintaan persetujuan
deal-approval-approved = { $actor } menyetujui deal { $deal_name }
    .title = Deal disetujui
deal-approval-rejected = { $actor } menolak deal { $deal_name }
    .title = Deal ditolak
expense-approval-requested = { $actor } meminta persetujuan Anda untuk biaya { $expense_name } ({ $amount })
    .title = Permintaan persetujuan
expense-approval-approved = { $actor } menyetujui biaya { $expense_name }
    .title = Biaya disetujui
expense-approval-rejected = { $actor } menolak biaya { $expense_name }
    .title = Biaya ditolak

## Pesan chat masuk (hanya toast, NC-R4)

chat-message = { $preview }
    .title = { $sender } di { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
chat-messages = { $count } pesan baru dari { $sender }: { $preview }
    .title = { $sender } di { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }

## Tab dan filter kategori

tab-general = Umum
tab-inbox = Inbox
tab-approval = Persetujuan
category-all = Semua
category-reminder = Pengingat
category-mention = Sebutan
category-assignment = Penugasan
category-update = Pembaruan
category-download_upload = Unduh & unggah
category-chat_assignment = Penugasan
category-resolved = Diselesaikan
category-blocked_contact = Kontak diblokir
category-deals = Deal
category-expenses = Biaya

## Jendela lonceng

app-name = Lonceng
bell-title = Notifikasi
unread-count = { $count ->
        [0] Tidak ada notifikasi belum dibaca
       *[other] { $count } notifikasi belum dibaca
    }
show-unread-only = Tampilkan yang belum dibaca saja
mark-all-read = Tandai semua sudah dibaca
mark-all-read-scope = Tandai { $count } sudah dibaca · { $scope }
mark-all-read-done = { $count } notifikasi ditandai sudah dibaca
undo = Urungkan
quarantined-count = { $count } notifikasi tidak dapat ditampilkan
quarantined-why = Mengapa?
link-refused = Tautan ini menuju { $host }, yang bukan alamat Qontak, jadi tidak dibuka.
mark-read = Tandai sudah dibaca
section-today = Hari ini
section-older = Sebelumnya
empty-tab = Belum ada apa-apa di sini. Notifikasi baru muncul saat tiba.
empty-unread = Semua sudah Anda baca.
empty-filter = Tidak ada notifikasi di kategori ini.
empty-inbox-crm = Inbox memerlukan server Lonceng: percakapan yang ditugaskan dan diselesaikan hanya sampai ke desktop melalui webhook Qontak, yang diterima oleh server. Dalam mode CRM langsung, Umum dan Persetujuan berfungsi; minta server Lonceng kepada administrator Anda untuk melihat Inbox.

## Koneksi (MW-1, MW-2)

status-connected = Terhubung
status-reconnecting = Menghubungkan ulang…
status-reconnecting-at = Qontak tidak dapat dijangkau. Mencoba lagi pukul { $time }.
status-maintenance-until = Qontak sedang dalam pemeliharaan hingga { $time }. Daftar Anda tetap tersedia.
status-offline = Luring. Daftar Anda tetap tersedia.
last-synced = Terakhir disinkronkan { $time }
maintenance-announced = Pemeliharaan terjadwal: { $start } – { $end }
late-summary = { $count } notifikasi tiba saat Qontak tidak tersedia
gap-expired = Beberapa item { $tab ->
        [inbox] Inbox
        [approval] Persetujuan
       *[general] Umum
    } mungkin kedaluwarsa saat Anda luring.

## Penjelasan toast ("mengapa tidak ada toast?")

why-toasted = Ditampilkan sebagai notifikasi desktop.
why-chat-focused = Tanpa notifikasi desktop: Anda sedang aktif di chat Qontak.
why-muted = Tanpa notifikasi desktop: kategori ini dibisukan.
why-paused = Tanpa notifikasi desktop: notifikasi sedang dijeda.
why-already-read = Tanpa notifikasi desktop: sudah dibaca.
why-late = Tanpa notifikasi desktop: tiba terlambat, setelah Qontak tidak tersedia.
more-summary = { $count } notifikasi lain menunggu di Lonceng
paused-summary = { $count } notifikasi tiba saat notifikasi dijeda

## Menu tray

tray-open = Buka
tray-mark-all-read = Tandai semua sudah dibaca
tray-pause = Jeda notifikasi
tray-pause-hour = Selama 1 jam
tray-pause-tomorrow = Sampai besok
tray-resume = Lanjutkan notifikasi
tray-language = Bahasa
tray-autostart = Mulai saat login
tray-settings = Pengaturan…
tray-quit = Keluar dari Lonceng

## Pengaturan dan penjelasan di jendela

why-unknown = Tidak ada keputusan yang tercatat untuk notifikasi ini di komputer ini.
why-label = Mengapa tidak ada notifikasi desktop?
settings-toasts = Notifikasi desktop untuk
settings-chat-messages = Pesan chat masuk
settings-server = Alamat server
settings-token = Token masuk
settings-token-keyring = Disimpan di keyring sistem.
settings-token-file = Tidak ada layanan keyring: disimpan di berkas yang hanya bisa Anda baca.
settings-token-none = Belum masuk.
settings-chat-window = Judul jendela web chat mengandung
settings-save = Simpan
settings-demo = Mode demo: server bawaan dengan aktivitas simulasi.
settings-source = Notifikasi berasal dari
settings-source-server = Server Lonceng (semua tab)
settings-source-crm = Langsung dari Qontak CRM (Umum dan Persetujuan)
settings-crm-warning = Ini adalah kredensial perusahaan Anda dari Mekari Developer Center: siapa pun yang memilikinya dapat membaca notifikasi CRM semua agen. Masukkan hanya di komputer Anda sendiri; secret disimpan di keyring sistem dan tidak pernah ditampilkan lagi.
settings-crm-base = Alamat API Mekari
settings-crm-client-id = Client id (username HMAC)
settings-crm-secret = Client secret
settings-crm-sso = SSO user id CRM Anda
settings-crm-secret-keyring = Disimpan di keyring sistem.
settings-crm-secret-file = Tidak ada layanan keyring: disimpan di berkas yang hanya bisa Anda baca.
settings-crm-secret-none = Belum diisi.

pin-window = Biarkan jendela ini tetap terbuka
