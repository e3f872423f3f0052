Return-Path: <j.random@gmail.example>
Authentication-Results: mx.500.uk.com; dkim=pass header.d=gmail.example; spf=pass smtp.mailfrom=j.random@gmail.example
Received: from mail.gmail.example (mail.gmail.example [192.0.2.20])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0010X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:10:11 +0000 (GMT)
From: J Random <j.random@gmail.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: Missing mobile
Date: Mon, 23 Nov 2026 09:10:05 +0000
Message-ID: <1764000010.demo0010@gmail.example>
X-Mailer: Gmail
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Hi, I am Bob's colleague.

User ID: U2001
Name: Bob Jones
Mobile: 07400 555444
