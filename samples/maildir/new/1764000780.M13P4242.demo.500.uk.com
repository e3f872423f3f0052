Return-Path: <admin@bluesky.example>
Authentication-Results: mx.500.uk.com; dkim=pass header.d=bluesky.example header.s=google; spf=pass smtp.mailfrom=admin@bluesky.example
Received: from mail.bluesky.example (mail.bluesky.example [192.0.2.23])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0013X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:13:11 +0000 (GMT)
From: Priya Shah <admin@bluesky.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: Question about our invoice
Date: Mon, 23 Nov 2026 09:13:05 +0000
Message-ID: <1764000013.demo0013@bluesky.example>
X-Mailer: Gmail
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Hello,

Could you send a copy of last month's invoice?

Thanks,
Priya
